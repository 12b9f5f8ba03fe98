"""kube.simple_yaml: either exactly what yaml.safe_load gives, or None (PyYAML then reads it)."""

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_trace.kube.simple_yaml import parse
from kubectl_trace.sandbox.server.kubeconfig import kubeconfig_dict

# What `kubectl config set-cluster/set-credentials/set-context/use-context` writes (shape
# and quoting as kubectl v1.3x prints them), with an exec plugin as cloud CLIs add.
KUBECTL_STYLE = """\
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=
    server: https://127.0.0.1:6443
  name: kind-dev
- cluster:
    insecure-skip-tls-verify: true
    server: https://10.0.0.1
    tls-server-name: api.internal
  name: staging
contexts:
- context:
    cluster: kind-dev
    namespace: production
    user: kind-dev
  name: kind-dev
- context:
    cluster: staging
    user: ""
  name: 'staging'
current-context: kind-dev
kind: Config
preferences: {}
users:
- name: kind-dev
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJU
    client-key-data: LS0tLS1CRUdJTiBSU0E=
- name: gke
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - --use_application_default_credentials
      - get-token
      command: gke-gcloud-auth-plugin
      env: null
      installHint: Install gke-gcloud-auth-plugin for use with kubectl
      interactiveMode: IfAvailable
      provideClusterInfo: true
# a comment
"""


def test_kubectl_style_kubeconfig_is_read_here():
    assert parse(KUBECTL_STYLE) == yaml.safe_load(KUBECTL_STYLE)


def test_sandbox_kubeconfig_is_read_here():
    config = kubeconfig_dict(
        "https://127.0.0.1:40000", b"-----BEGIN CERTIFICATE-----\n", "t0ken", "production"
    )
    for text in (yaml.safe_dump(config, default_flow_style=False, sort_keys=False), yaml.safe_dump(config)):
        assert parse(text) == config


def test_json_kubeconfig():
    config = kubeconfig_dict("https://127.0.0.1:1", b"x", "t")
    assert parse(json.dumps(config)) == config
    assert parse("{not json") is None


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # anchors
        "a: |\n  text\n",  # block scalar
        "a: {b: c}\n",  # flow mapping
        "a: [b, c]\n",  # flow sequence
        "---\na: b\n",  # document marker
        "a: 1\n",  # a number
        "a: 2026-01-01\n",  # a date
        'a: "esc\\n"\n',  # escapes
        "a: b\n  c\n",  # multi-line plain scalar
        "a: b # comment\n",  # trailing comment
        "a: !!str x\n",  # a tag
        "a:\tb\n",  # a tab
        "- - a\n",  # nested sequences
        "yes: x\n",  # a key that is not a string
        "just a scalar\n",
    ],
)
def test_what_it_leaves_to_pyyaml(text):
    assert parse(text) is None


def test_yaml_words():
    assert parse("a: yes\nb: Off\nc: ~\nd: null\ne:\nf: 'true'\ng: \"no\"\n") == {
        "a": True,
        "b": False,
        "c": None,
        "d": None,
        "e": None,
        "f": "true",
        "g": "no",
    }


def test_empty_document():
    assert parse("") is None and parse("# only a comment\n") is None


# -- the property: never a different answer than PyYAML ------------------------------------

_TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 -_:#'\"./@$&*!|>{}[],?%=~\\")) | st.characters(codec="utf-8"),
    max_size=12,
)
_WORD = st.sampled_from(
    ["yes", "no", "on", "Off", "true", "null", "~", "y", "n", "1", "0x1f", "1:20", ".5", ""]
)
_SCALAR = st.none() | st.booleans() | st.integers(-5, 99) | _TEXT | _WORD
_KEY = st.sampled_from(["name", "server", "user", "a-b", "x.y/z", "on", "1", "k"]) | _TEXT
_DOC = st.recursive(
    _SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEY, inner, max_size=4),
    max_leaves=12,
)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(
    doc=st.dictionaries(_KEY, _DOC, max_size=5),
    flow=st.sampled_from([False, None]),
    indent=st.sampled_from([2, 4]),
)
def test_same_as_pyyaml_on_dumped_documents(doc, flow, indent):
    text = yaml.safe_dump(doc, default_flow_style=flow, indent=indent, allow_unicode=True)
    got = parse(text)
    assert got is None or got == yaml.safe_load(text)


_LINE = st.lists(
    st.sampled_from(["", "  ", "    ", "- ", "  - "]).flatmap(
        lambda lead: st.tuples(st.just(lead), _KEY, st.sampled_from([": ", ":", " "]), _TEXT | _WORD)
    ),
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(lines=_LINE)
def test_same_as_pyyaml_on_arbitrary_lines(lines):
    text = "\n".join("".join(parts) for parts in lines) + "\n"
    got = parse(text)
    if got is None:
        return
    assert got == yaml.safe_load(text)  # parse only answers where PyYAML reads the same


# Documents of the kubeconfig kind (most of which parse reads itself), to test the structure.
_PLAIN_KEY = st.from_regex(r"[a-z][a-zA-Z0-9.-]{0,8}", fullmatch=True)
_PLAIN_TEXT = st.from_regex(r"[a-zA-Z/$-][a-zA-Z0-9 :./#'\"=-]{0,10}", fullmatch=True) | _WORD
_PLAIN_DOC = st.recursive(
    st.none() | st.booleans() | _PLAIN_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_PLAIN_KEY, inner, max_size=4),
    max_leaves=16,
)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(doc=st.dictionaries(_PLAIN_KEY, _PLAIN_DOC, min_size=1, max_size=5), indent=st.sampled_from([2, 4]))
def test_same_as_pyyaml_on_kubeconfig_like_documents(doc, indent):
    text = yaml.safe_dump(doc, default_flow_style=False, indent=indent, allow_unicode=True)
    got = parse(text)
    assert got is None or got == doc == yaml.safe_load(text)
