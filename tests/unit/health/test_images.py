import pytest

from kubectl_trace.health import image_ref, image_tag


@pytest.mark.parametrize(
    ("image", "repository", "tag", "digest"),
    [
        (
            "registry.sandbox.local/trace/trace-api:3f9c2a1",
            "registry.sandbox.local/trace/trace-api",
            "3f9c2a1",
            None,
        ),
        ("localhost:5000/trace-api", "localhost:5000/trace-api", None, None),
        ("localhost:5000/trace-api:latest", "localhost:5000/trace-api", "latest", None),
        ("node:20-alpine", "node", "20-alpine", None),
        ("nginx", "nginx", None, None),
        ("ghcr.io/a/b@sha256:" + "0" * 64, "ghcr.io/a/b", None, "sha256:" + "0" * 64),
        ("ghcr.io/a/b:v1@sha256:" + "1" * 64, "ghcr.io/a/b", "v1", "sha256:" + "1" * 64),
    ],
)
def test_image_ref(image, repository, tag, digest):
    ref = image_ref(image)
    assert (ref.repository, ref.tag, ref.digest) == (repository, tag, digest)
    assert image_tag(image) == tag


def test_display():
    assert image_ref("a/b:abc1234").display == "abc1234"
    assert image_ref("a/b@sha256:" + "f" * 64).display == "f" * 12
    assert image_ref("a/b").display == "(no tag)"
