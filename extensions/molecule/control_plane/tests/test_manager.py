"""The control_plane scenario's verifier, on the manager: three Ready nodes, and Traefik answering."""

from sentinel_testinfra import managers

testinfra_hosts = managers()


def test_the_manager_counts_three_ready_nodes_and_runs_traefik(host):
    nodes = host.check_output("docker node ls --format '{{.Hostname}} {{.Status}}'").splitlines()
    assert sorted(nodes) == ["node1 Ready", "node2 Ready", "node3 Ready"]
    services = host.check_output("docker service ls --format '{{.Name}} {{.Replicas}}'").splitlines()
    assert "sentinel-traefik 1/1" in services, services


def test_traefik_answers_on_the_managers_http_port(host):
    # Its own 404 for a domain no app has: Traefik is there and routing.
    answer = host.run("python3 -c \"import urllib.request as u; u.urlopen('http://127.0.0.1/')\"")
    assert "HTTP Error 404: Not Found" in answer.stderr, answer.stderr


def test_the_maintenance_page_runs_beside_traefik_and_answers_503(host):
    services = host.check_output("docker service ls --format '{{.Name}} {{.Replicas}}'").splitlines()
    assert "sentinel-maintenance 1/1" in services, services
    # From inside its task: Traefik reaches it on the edge network, which the host is not on.
    container = host.check_output("docker ps -q --filter label=com.docker.swarm.service.name=sentinel-maintenance")
    probe = "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/')"
    answer = host.run(f'docker exec {container} python3 -c "{probe}"')
    assert "HTTP Error 503: Service Unavailable" in answer.stderr, answer.stderr
