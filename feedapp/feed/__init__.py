"""Jumpseller products to Google items: mapping, cleaning, checks, problems, XML, publishing."""
