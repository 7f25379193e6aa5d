from pathlib import Path

from cxpipe.config import Settings
from cxpipe.runner import airflow_env


def test_airflow_env_points_airflow_at_the_project_and_its_data(settings: Settings, tmp_path: Path) -> None:
    env = airflow_env(settings, tmp_path / "home")
    assert env["AIRFLOW_HOME"] == str(tmp_path / "home")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(settings.project_dir / "dags")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["CX_DATA_DIR"] == str(settings.data_dir)
    assert env["CX_BUILD_DB"] == str(settings.build_db)
    assert Path(env["PATH"].split(":")[0], "airflow").exists()
