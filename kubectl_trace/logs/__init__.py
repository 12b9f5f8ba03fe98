"""Merged logs of many pods: watch → targets → tail → parse → group → filter → merge → render.

Each stage is a small module; the pure ones (``parse``, ``group``, ``filters``, ``merge``,
``render``, ``resume``, ``instances``) know nothing about HTTP or threads. ``tailer``
streams one container instance, ``follow`` turns pod events into tailers and ``pipeline``
is the single writer that ties it all together.
"""
