import subprocess
import sys
from pathlib import Path

from cxpipe.runner import airflow_env
from cxpipe.settings import Settings


def test_airflow_env_points_airflow_at_the_project_and_its_data(settings: Settings, tmp_path: Path) -> None:
    env = airflow_env(settings, tmp_path / "home")
    assert env["AIRFLOW_HOME"] == str(tmp_path / "home")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(settings.project_dir / "dags")
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == str(settings.project_dir / "plugins")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["CX_DATA_DIR"] == str(settings.data_dir)
    assert env["CX_BUILD_DB"] == str(settings.build_db)
    assert Path(env["PATH"].split(":")[0], "airflow").exists()


def test_airflow_imports_cxpipe_from_its_plugins_folder_without_scanning_it_as_plugins(
    settings: Settings, tmp_path: Path
) -> None:
    """Airflow puts the plugins folder on sys.path; `.airflowignore` keeps its plugin scan out of cxpipe."""
    env = airflow_env(settings, tmp_path / "home")
    code = (
        "import sys; from airflow import settings, plugins_manager; "
        "plugins_manager.ensure_plugins_loaded(); "
        "print(settings.PLUGINS_FOLDER in sys.path, sorted(plugins_manager.get_import_errors()), "
        "[m for m in ('cli', 'runner', 'orchestration') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[-2] == "True [] []", done.stdout + done.stderr
