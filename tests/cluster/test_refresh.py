"""``refresh_schedule`` on the real cluster: a Job made from the CronJob runs the in-cluster
kubectl as the refresh ServiceAccount (through the ``kubernetes`` Service's ClusterIP, so
kube-proxy's rules); the real RBAC authorizer allows its patch on the prepuller's DaemonSet
and denies the same patch on another; the DaemonSet rolls and a re-pushed mutable tag is
pulled again (the image on the node changes)."""

from __future__ import annotations

from . import testimages
from .kube import Cluster
from .synth import manifests, of_kind


def node_image_id(cluster: Cluster, reference: str) -> str | None:
    return cluster.images().get(reference)


def test_a_job_from_the_cron_job_rolls_the_daemon_set_and_repulls_a_moved_tag(
    clean_node: Cluster, namespace: str
) -> None:
    cluster = clean_node
    testimages.push_mutable(cluster, generation=0)
    objects = manifests(namespace, images=[testimages.MUTABLE], refresh_schedule="0 4 * * *")
    [cron_job] = of_kind(objects, "CronJob")
    other = manifests(namespace, id="other", images=[testimages.FILLER[1]], network_policy=False)
    cluster.apply([*objects, *of_kind(other, "DaemonSet")])
    [before] = cluster.wait_running(namespace, "name=prepull")
    first_id = node_image_id(cluster, testimages.MUTABLE)
    assert first_id is not None

    account = f"system:serviceaccount:{namespace}:{cron_job['metadata']['name']}"
    allowed = cluster.kubectl(
        "auth", "can-i", "patch", "daemonsets/prepull", "-n", namespace, "--as", account, check=False
    )
    denied = cluster.kubectl(
        "auth", "can-i", "patch", "daemonsets/other", "-n", namespace, "--as", account, check=False
    )
    assert (allowed.stdout.strip(), denied.stdout.strip()) == ("yes", "no")
    # The very patch `kubectl rollout restart` sends, as the refresh account: denied on the
    # other DaemonSet by the real authorizer (RBAC's resourceNames).
    patch = '{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"now"}}}}}'
    status, body = cluster.request(
        "PATCH",
        f"/apis/apps/v1/namespaces/{namespace}/daemonsets/other",
        patch,
        content_type="application/strategic-merge-patch+json",
        impersonate=account,
    )
    assert (status, body["reason"]) == (403, "Forbidden"), body
    assert f'User "{account}" cannot patch resource "daemonsets"' in body["message"], body

    testimages.push_mutable(cluster, generation=1)
    cluster.kubectl("create", "job", "--from", f"cronjob/{cron_job['metadata']['name']}", "manual", "-n", namespace)
    cluster.kubectl("wait", "--for=condition=Complete", "job/manual", "-n", namespace, "--timeout=120s", timeout=150)

    restarts = [
        e
        for e in cluster.audit(verb="patch", resource="daemonsets", name="prepull")
        if e["user"]["username"] == account and e["objectRef"].get("namespace") == namespace
    ]
    assert [e["responseStatus"]["code"] for e in restarts] == [200]
    cluster.kubectl("rollout", "status", "daemonset/prepull", "-n", namespace, "--timeout=120s", timeout=150)
    [after] = cluster.wait_running(namespace, "name=prepull")
    assert after["metadata"]["name"] != before["metadata"]["name"]
    assert "kubectl.kubernetes.io/restartedAt" in after["metadata"].get("annotations", {})
    second_id = node_image_id(cluster, testimages.MUTABLE)
    assert second_id is not None and second_id != first_id
