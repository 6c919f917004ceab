"""What the routes call: marts reads (dashboards, lists) and the seam to the agents."""
