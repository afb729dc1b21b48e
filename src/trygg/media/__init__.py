"""trygg.media: PDQ hashing, hash banks, a matching index, video frames and nudity scores.

The heavy dependencies (pdqhash, faiss, OpenCV, Pillow) live in the ``media`` extra, so the
submodules import them; this package itself stays importable without them.
"""
