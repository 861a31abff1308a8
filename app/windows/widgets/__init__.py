"""Small widgets more than one page uses."""
