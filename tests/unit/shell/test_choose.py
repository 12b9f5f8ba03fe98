"""Pod choice over pod dicts: which pod, when to ask, and the errors with hints."""

import re

import pytest

from kubectl_trace.errors import NodeappError
from kubectl_trace.kube.targets import Target
from kubectl_trace.shell.choose import candidates_error, choose_pod, pick_container, rank_pods
from kubectl_trace.shell.pods import image_tag, not_runnable, owner_deployment, pod_row, status_reason
from tests.factories.picker import NOW, deployment, pod

WEB = deployment("trace-api-web", "web")
WORKER = deployment("trace-api-worker", "worker")
CLOCK = deployment("trace-api-clock", "clock")


def app_target(*deployments, process=None):
    return Target(
        namespace="production",
        description="app trace-api" + (f" ({process})" if process else ""),
        kind="app",
        deployments=tuple(deployments),
        app="trace-api" if process is None else None,
        process=process,
    )


def deploy_target(d):
    return Target(
        namespace="production",
        description=f"deployment {d['metadata']['name']}",
        kind="deployment",
        deployments=(d,),
    )


def pod_target(name):
    return Target(namespace="production", description=f"pod {name}", kind="pod", pod_name=name)


ALL = Target(namespace="production", description="all pods", kind="all")

PODS = [
    pod("trace-api-web-5d4f8b9c7-aaaaa", restarts=2),
    pod("trace-api-web-5d4f8b9c7-bbbbb", ready_since="2026-09-21T09:00:00Z"),
    pod("trace-api-web-5d4f8b9c7-ccccc", ready=False),
    pod("trace-api-worker-5d4f8b9c7-ddddd", deployment="trace-api-worker", process="worker"),
    pod(
        "trace-api-worker-5d4f8b9c7-eeeee", deployment="trace-api-worker", process="worker", state="crashloop"
    ),
    pod("trace-api-clock-5d4f8b9c7-fffff", deployment="trace-api-clock", process="clock"),
]


def names(pods):
    return [p["metadata"]["name"] for p in pods]


def test_one_deployment_takes_the_best_ready_pod_without_asking():
    choice = choose_pod(deploy_target(WEB), PODS)
    assert not choice.must_ask and choice.automatic
    # ready the longest wins over the one with restarts; the unready one never
    assert choice.pod["metadata"]["name"] == "trace-api-web-5d4f8b9c7-bbbbb"


def test_an_app_narrowed_by_process_is_one_deployment():
    choice = choose_pod(app_target(WORKER, process="worker"), PODS)
    assert choice.pod["metadata"]["name"] == "trace-api-worker-5d4f8b9c7-ddddd"


def test_pick_asks_even_within_one_deployment():
    choice = choose_pod(deploy_target(WEB), PODS, pick=True)
    assert choice.must_ask
    assert names(choice.candidates) == ["trace-api-web-5d4f8b9c7-aaaaa", "trace-api-web-5d4f8b9c7-bbbbb"]


def test_an_app_spanning_deployments_asks_among_running_ready_pods():
    choice = choose_pod(app_target(WEB, WORKER, CLOCK), PODS)
    assert choice.must_ask
    assert names(choice.candidates) == [
        "trace-api-clock-5d4f8b9c7-fffff",
        "trace-api-web-5d4f8b9c7-aaaaa",
        "trace-api-web-5d4f8b9c7-bbbbb",
        "trace-api-worker-5d4f8b9c7-ddddd",
    ]


def test_any_includes_pods_that_are_not_ready():
    choice = choose_pod(app_target(WEB, WORKER, CLOCK), PODS, any_state=True)
    assert len(choice.candidates) == len(PODS)


def test_no_target_asks_even_when_one_deployment_would_do():
    web_only = [p for p in PODS if "web" in p["metadata"]["name"]]
    assert choose_pod(ALL, web_only).must_ask


def test_a_single_candidate_is_taken():
    choice = choose_pod(ALL, [PODS[3]])
    assert choice.pod is PODS[3]


def test_a_named_pod_is_taken_even_if_not_ready():
    choice = choose_pod(pod_target("trace-api-web-5d4f8b9c7-ccccc"), PODS)
    assert choice.pod["metadata"]["name"] == "trace-api-web-5d4f8b9c7-ccccc"


def test_a_named_pod_in_crash_loop_explains_and_points_at_previous_logs():
    with pytest.raises(NodeappError) as info:
        choose_pod(pod_target("trace-api-worker-5d4f8b9c7-eeeee"), PODS)
    assert "CrashLoopBackOff" in info.value.message
    assert "last exit code 1 (Error)" in info.value.message
    assert info.value.hint == "see: kubectl nodeapp logs trace-api-worker-5d4f8b9c7-eeeee --previous"


def test_any_lets_a_named_pod_through_whatever_its_state():
    name = "trace-api-worker-5d4f8b9c7-eeeee"
    assert choose_pod(pod_target(name), PODS, any_state=True).pod["metadata"]["name"] == name


def test_a_named_pod_that_does_not_match_the_process_filter():
    target = Target(
        namespace="production",
        description="pod x",
        kind="pod",
        pod_name=PODS[0]["metadata"]["name"],
        process="worker",
    )
    with pytest.raises(NodeappError, match="does not match --process worker"):
        choose_pod(target, PODS)


def test_no_usable_pod_summarises_states_and_hints_at_logs():
    crashing = [
        pod(
            "trace-api-worker-5d4f8b9c7-x1",
            deployment="trace-api-worker",
            process="worker",
            state="crashloop",
        ),
        pod(
            "trace-api-worker-5d4f8b9c7-x2", deployment="trace-api-worker", process="worker", state="creating"
        ),
    ]
    with pytest.raises(NodeappError) as info:
        choose_pod(deploy_target(WORKER), crashing)
    assert "none of the 2 pods" in info.value.message
    assert "1 CrashLoopBackOff" in info.value.message and "1 ContainerCreating" in info.value.message
    assert "kubectl nodeapp logs trace-api-worker-5d4f8b9c7-x1 --previous" in info.value.hint


def test_the_only_pod_not_running_gets_its_own_explanation():
    only = [pod("trace-api-web-5d4f8b9c7-p1", state="pull", tag="0000000")]
    with pytest.raises(NodeappError) as info:
        choose_pod(deploy_target(WEB), only)
    assert "ImagePullBackOff" in info.value.message
    assert "kubectl nodeapp events trace-api-web-5d4f8b9c7-p1" in info.value.hint


def test_nothing_matches():
    with pytest.raises(
        NodeappError, match=r'no pods match deployment trace-api-web in namespace "production"'
    ):
        choose_pod(deploy_target(WEB), [PODS[3]])


def test_terminating_pods_are_not_candidates():
    pods = [pod("trace-api-web-5d4f8b9c7-old", terminating=True), pod("trace-api-web-5d4f8b9c7-new")]
    assert choose_pod(deploy_target(WEB), pods).pod["metadata"]["name"] == "trace-api-web-5d4f8b9c7-new"


def test_candidates_error_lists_names_and_says_what_to_do():
    choice = choose_pod(app_target(WEB, WORKER, CLOCK), PODS)
    error = candidates_error(app_target(WEB, WORKER, CLOCK), choice.candidates)
    assert error.message.startswith("4 pods of app trace-api of 3 deployments would do")
    for name in names(choice.candidates):
        assert name in error.message
    assert "--process" in error.hint


def test_candidates_error_truncates_long_lists():
    many = [pod(f"trace-api-web-5d4f8b9c7-{i:05d}") for i in range(20)]
    error = candidates_error(ALL, many, limit=8)
    assert error.message.endswith("and 12 more")


def test_rank_prefers_ready_then_ready_longest_then_fewest_restarts():
    ranked = rank_pods(PODS[:3])
    assert names(ranked) == [
        "trace-api-web-5d4f8b9c7-bbbbb",
        "trace-api-web-5d4f8b9c7-aaaaa",
        "trace-api-web-5d4f8b9c7-ccccc",
    ]


def test_pick_container_default_annotation_and_unknown_name():
    p = pod("trace-api-web-5d4f8b9c7-aaaaa", containers=("app", "sidecar"))
    assert pick_container(p, None) == "app"
    p["metadata"]["annotations"] = {"kubectl.kubernetes.io/default-container": "sidecar"}
    assert pick_container(p, None) == "sidecar"
    assert pick_container(p, "app") == "app"
    with pytest.raises(NodeappError, match=r'container "db" not found .*containers: app, sidecar'):
        pick_container(p, "db")


def test_pod_row_facts():
    row = pod_row(PODS[0], NOW)
    assert (row.name, row.process, row.ready, row.restarts, row.tag) == (
        "trace-api-web-5d4f8b9c7-aaaaa",
        "web",
        "1/1",
        2,
        "3f9c2a1",
    )
    assert re.fullmatch(r"\d+[smhd]\w*", row.age)
    assert row.deployment == "trace-api-web"


@pytest.mark.parametrize(
    ("image", "tag"),
    [
        ("registry.sandbox.local/trace/trace-api:3f9c2a1", "3f9c2a1"),
        ("localhost:5000/app", "latest"),
        ("node:20-alpine", "20-alpine"),
        ("app@sha256:0123456789abcdef0123", "0123456789ab"),
    ],
)
def test_image_tag(image, tag):
    assert image_tag(image) == tag


def test_status_reason_and_owner():
    assert status_reason(PODS[4]) == "CrashLoopBackOff"
    assert status_reason(pod("x", terminating=True)) == "Terminating"
    assert status_reason(pod("x", state="terminated")) == "OOMKilled"
    assert owner_deployment(pod("x", deployment=None)) is None


@pytest.mark.parametrize(
    ("state", "needle", "hint"),
    [
        ("creating", "not running yet (ContainerCreating)", "kubectl nodeapp events p"),
        ("pending", "not running yet (not scheduled yet)", "kubectl nodeapp events p"),
        ("terminated", "has finished (Failed)", "kubectl nodeapp logs p"),
    ],
)
def test_not_runnable_explanations(state, needle, hint):
    problem = not_runnable(pod("p", state=state), "app")
    assert problem is not None and needle in problem.message and hint in problem.hint


def test_running_container_is_runnable():
    assert not_runnable(PODS[0], "app") is None


def test_an_unknown_container_is_reported_before_the_pod_state():
    crashing = pod("trace-api-web-5d4f8b9c7-zz", state="crashloop")
    with pytest.raises(NodeappError, match=r'container "db" not found in pod trace-api-web-5d4f8b9c7-zz'):
        choose_pod(pod_target("trace-api-web-5d4f8b9c7-zz"), [crashing], container="db")
    with pytest.raises(
        NodeappError, match=r'no pod of deployment trace-api-web .* has a container "db" \(containers: app\)'
    ):
        choose_pod(deploy_target(WEB), PODS, container="db")


def test_a_container_narrows_the_candidates():
    with_sidecar = pod("trace-api-web-5d4f8b9c7-sc", containers=("app", "sidecar"))
    choice = choose_pod(ALL, [*PODS, with_sidecar], container="sidecar")
    assert choice.pod is with_sidecar
