"""Hypothesis strategies for valid image references, built from the distribution grammar."""

from __future__ import annotations

from hypothesis import strategies as st

_alnum = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
_separator = st.sampled_from([".", "_", "__", "-", "--"])


@st.composite
def _path_component(draw: st.DrawFn) -> str:
    parts = [draw(_alnum)]
    for _ in range(draw(st.integers(0, 2))):
        parts += [draw(_separator), draw(_alnum)]
    return "".join(parts)


_domain = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "docker.io",
            "index.docker.io",
            "gcr.io",
            "quay.io",
            "localhost",
            "localhost:5000",
            "registry.example.com:443",
            "[::1]:5000",
        ]
    ),
)
_tag = st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,40}\Z")
_digest = st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda hex_: f"sha256:{hex_}")


@st.composite
def image_references(draw: st.DrawFn) -> str:
    """A valid image reference: optional registry, 1-3 path components, optional tag and digest."""
    path = "/".join(draw(st.lists(_path_component(), min_size=1, max_size=3)))
    domain = draw(_domain)
    text = f"{domain}/{path}" if domain else path
    if draw(st.booleans()):
        text += ":" + draw(_tag)
    if draw(st.integers(0, 4)) == 0:
        text += "@" + draw(_digest)
    return text
