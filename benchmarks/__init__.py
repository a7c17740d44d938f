"""Speed and calibration scripts that import the lab (`python -m benchmarks.<name>`); nothing imports them."""
