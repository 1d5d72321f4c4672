"""Learning that knows no sound: Q-learning, its rewards and settings, and the chain of agents."""
