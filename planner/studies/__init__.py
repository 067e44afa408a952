"""Studies built from many solves: compare (central vs micro vs hybrid), pareto (cost–CO2),
mga (near-optimal alternatives), stochastic (scenarios and staged rollout), sweep (on Dask) and
bench (published benchmark instances)."""
