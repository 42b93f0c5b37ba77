"""SchoolGate: who may come through the school gate."""
