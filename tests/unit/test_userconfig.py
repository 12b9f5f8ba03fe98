import pytest

from kubectl_trace.errors import UsageError
from kubectl_trace.kube.targets import Target
from kubectl_trace.userconfig import UserConfig, config_path, load_user_config


def test_defaults_without_file(tmp_path):
    config = load_user_config({"XDG_CONFIG_HOME": str(tmp_path)})
    assert config == UserConfig()
    assert config.is_production("production") and config.is_production("prod")
    assert not config.is_production("staging")


def test_file_is_read(tmp_path):
    path = tmp_path / "kubectl-nodeapp" / "config.toml"
    path.parent.mkdir()
    path.write_text(
        'production_namespaces = ["live"]\nprocess_label = "role"\nprocess_env = "DYNO"\ncolor = "never"\n'
        'image_repository = "registry.example.com/t/app"\n'
    )
    environ = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert config_path(environ) == str(path)
    config = load_user_config(environ)
    assert config.production_namespaces == ("live",)
    assert config.is_production("live") and not config.is_production("production")
    assert (config.process_label, config.process_env, config.color) == ("role", "DYNO", "never")
    assert config.image_repository == "registry.example.com/t/app"
    target = Target(
        namespace=None, description="", kind="all", process="web", process_label="role", process_env="DYNO"
    )
    assert target.matches({"metadata": {"name": "p", "labels": {"role": "web"}}, "spec": {"containers": []}})
    assert target.matches(
        {"metadata": {"name": "p"}, "spec": {"containers": [{"env": [{"name": "DYNO", "value": "web"}]}]}}
    )
    assert not target.matches(
        {"metadata": {"name": "p", "labels": {"process": "web"}}, "spec": {"containers": []}}
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("color = [", "is not valid TOML"),
        ('colour = "never"', 'unknown setting "colour"'),
        ('color = "blue"', "color must be auto, always or never"),
        ("production_namespaces = 'prod'", "must be a list of strings"),
        ("apps = 1", "apps must be a table"),
        ("[apps.web]\nrelease = 'x'", 'unknown setting "apps.web.release"'),
        ("[apps.web]\nrelease_command = ''", "release_command must be a non-empty string"),
    ],
)
def test_bad_file_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        load_user_config({"KUBECTL_NODEAPP_CONFIG": str(path)})


def test_release_command_per_app(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[apps.trace-api]\nrelease_command = "npm run migrate"\n')
    config = load_user_config({"KUBECTL_NODEAPP_CONFIG": str(path)})
    assert config.release_command("trace-api") == "npm run migrate"
    assert config.release_command("trace-ui") is None
