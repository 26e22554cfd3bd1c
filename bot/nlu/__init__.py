"""Language understanding: the Rasa service (over HTTP), its training data, training and evaluation."""
