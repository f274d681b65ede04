"""Files that processes share: locks, and writes that a kill never leaves half done.

The bottom of the package: every other layer may import it, it imports none of them.
"""
