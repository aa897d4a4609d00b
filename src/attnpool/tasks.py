"""The tasks a model can learn; the one list that the data readers, models, training and explanations share."""

TASKS = ("classify", "regress", "forecast")

__all__ = ["TASKS"]
