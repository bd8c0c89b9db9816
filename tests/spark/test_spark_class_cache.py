"""The class-data archives of a local cluster's JVMs, without a cluster: an archive is named by what it serves (the
Java build, Spark's jars, what precedes them on the classpath), a missing one adds no option, and a half-written
one (which crashes the JVM that maps it) is never put in place. The cluster test (test_spark.py) checks that every
JVM maps its archive."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from warehouse import spark_class_cache
from warehouse.spark_class_cache import archive, archive_options, make_archive

pytestmark = pytest.mark.fast


def fake_spark(root: Path) -> Path:
    (root / "jars").mkdir(parents=True)
    for name in ("spark-core.jar", "scala-library.jar"):
        (root / "jars" / name).write_bytes(b"jar")
    return root


def test_an_archive_is_named_by_the_jars_and_classpath_it_serves(tmp_path):
    home = fake_spark(tmp_path / "spark")
    jdbc = tmp_path / "postgresql.jar"
    jdbc.write_bytes(b"driver")
    executor, driver = archive("executor", (), home), archive("driver", (jdbc,), home)
    assert executor == archive("executor", (), home) and executor.parent == spark_class_cache.ARCHIVES
    assert executor.name.startswith("executor-") and driver.name.startswith("driver-")
    assert archive("driver", (), home).name.split("-")[1] == executor.name.split("-")[1]
    assert archive("driver", (jdbc,), home) != archive("driver", (), home)
    (home / "jars" / "spark-core.jar").write_bytes(b"a newer jar")  # Spark upgraded: another archive
    assert archive("executor", (), home) != executor


def test_a_missing_archive_adds_no_option_and_a_present_one_is_mapped_quietly(tmp_path):
    missing = tmp_path / "missing.jsa"
    assert archive_options(missing) == ""
    present = tmp_path / "present.jsa"
    present.write_bytes(b"x")
    options = archive_options(present).split()
    assert f"-XX:SharedArchiveFile={present}" in options and "-Xshare:auto" in options
    assert "-Xlog:cds=off" in options  # a JVM that cannot use it (another classpath) starts as before, silently


def test_an_archive_that_does_not_map_is_never_put_in_place(tmp_path, monkeypatch):
    """The dumping JVM wrote something that a JVM cannot map (here: a truncated file, which crashes a JVM that maps
    it): the error names it and nothing is left at the archive's path, nor beside it."""
    target = tmp_path / "archives" / "executor-0.jsa"
    real_run = subprocess.run

    def dumping_a_truncated_archive(command, **kwargs):
        if command[1:2] == ["-c"]:  # the dumping application: writes a cut-off archive where it was told
            written = kwargs["env"]["SPARK_CDS_CONF"].split("ArchiveClassesAtExit=")[1].split()[0]
            Path(written).write_bytes(b"\x00" * 4096)
            return subprocess.CompletedProcess(command, 0, stdout='"/nowhere.jar"\n', stderr="")
        return real_run(command, **kwargs)

    monkeypatch.setattr(spark_class_cache.subprocess, "run", dumping_a_truncated_archive)
    with pytest.raises(RuntimeError, match="does not map"):
        make_archive(target, (), "")
    assert list((tmp_path / "archives").iterdir()) == []
    target.write_bytes(b"kept")  # one in place already is kept: nothing runs
    assert make_archive(target, (), "") == target and target.read_bytes() == b"kept"


def test_archives_of_an_earlier_java_or_spark_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(spark_class_cache, "ARCHIVES", tmp_path)
    current, earlier = tmp_path / "executor-new.jsa", tmp_path / "executor-old.jsa"
    current.write_bytes(b"new")
    earlier.write_bytes(b"old")
    spark_class_cache.remove_other_archives([current])
    assert list(tmp_path.iterdir()) == [current]
