"""The hotline: escalations (cases), the queue's order, staff alerts. The case rules (cases.py) and a
turn's unit of work (turn.py) import no framework; bot/storage keeps them in SQL (storage/cases.py,
storage/turns.py)."""
