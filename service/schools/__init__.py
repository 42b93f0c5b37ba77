"""Schools: the places whose gates this service guards."""
