"""The sandbox's HTTPS API server: discovery, REST, watch, logs, exec, proxy, faults.

``make_app(store, runtime, token=…)`` builds the aiohttp application; ``serve`` (in
``app``) binds it on loopback with the sandbox's own CA.
"""
