"""The example app: ``cdk8s synth`` runs this and writes ``dist/``.

Edit the image list, run ``make synth`` and ``kubectl apply -f dist/``.
"""

from __future__ import annotations

import cdk8s

from prepuller import ImagePrepuller

IMAGES = [
    "docker.io/library/python:3.12-slim",
    "quay.io/jupyter/scipy-notebook:2024-10-07",
    "gcr.io/distroless/static-debian12:nonroot",
]


def build(app: cdk8s.App) -> cdk8s.Chart:
    """Define the example chart in ``app``."""
    chart = cdk8s.Chart(app, "prepuller", namespace="default")
    ImagePrepuller(chart, "prepull", images=IMAGES)
    return chart


def main() -> None:
    app = cdk8s.App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
