"""Validation of Chinese identifiers: unified social credit codes and resident ID numbers."""
