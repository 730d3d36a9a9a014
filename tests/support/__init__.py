"""Test support shared by the test modules (not part of the package).

- ``kubectl.kubectl_binary()``: a real kubectl 1.33 from a pinned PyPI wheel, cached.
- ``apiserver.running_api_server()``: a stub Kubernetes API server on 127.0.0.1 that
  records requests and injects failures; ``write_kubeconfig`` points kubectl at it.
- ``expansion.expand()``: the kubelet's ``$(VAR)`` expansion of command and args.

Tests that run kubectl are marked ``slow``.
"""
