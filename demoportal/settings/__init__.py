"""Settings package: ``base`` holds everything; ``local``, ``test`` and ``production`` change only what differs.

All configuration comes from the environment through the single ``env`` object in ``base``.
"""
