import json

import numpy as np
import pytest
from conftest import smooth_image

from pydeblur import psf
from pydeblur.cli import main
from pydeblur.io import imwrite
from pydeblur.operators import convolve
from pydeblur.parallel import check_cluster, restore_files

distributed = pytest.importorskip("dask.distributed")

SPEC = "motion:length=9,angle=30"


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("in")
    for i in range(4):
        blurred = convolve(smooth_image((48, 56, 3), seed=i), psf.motion(9, 30), boundary="reflect")
        imwrite(folder / f"p{i}.png", np.clip(blurred, 0, 1), bit_depth=16 if i % 2 else 8)
    (folder / "broken.png").write_bytes(b"not a png")
    return folder


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        yield c


def test_cluster_outputs_are_byte_identical_to_the_serial_run(photos, client, tmp_path):
    inputs = sorted(photos.glob("*.png"))
    for method in ("wiener", "hyper-laplacian"):
        serial = restore_files(inputs, tmp_path / method / "serial", method, psf=SPEC)
        parallel = restore_files(inputs, tmp_path / method / "dask", method, psf=SPEC, client=client)
        assert [e["status"] for e in serial] == [e["status"] for e in parallel]
        assert [e["input"] for e in parallel] == [str(p) for p in inputs]  # in the inputs' order
        for entry in serial:
            if entry["status"] == "ok":
                name = entry["output"].rsplit("/", 1)[1]
                assert (tmp_path / method / "dask" / name).read_bytes() == \
                    (tmp_path / method / "serial" / name).read_bytes()


def test_one_bad_file_fails_alone_and_skip_existing_resumes(photos, client, tmp_path):
    inputs = sorted(photos.glob("*.png"))
    first = restore_files(inputs, tmp_path, "wiener", psf=SPEC, client=client)
    failed = [e for e in first if e["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["input"].endswith("broken.png")
    assert sum(e["status"] == "ok" for e in first) == 4
    again = restore_files(inputs, tmp_path, "wiener", psf=SPEC, client=client, skip_existing=True)
    assert sum(e["status"] == "skipped" for e in again) == 4
    with_refusal = restore_files(inputs[1:2], tmp_path, "wiener", psf=SPEC, client=client)
    assert with_refusal[0]["status"] == "failed" and "exists" in with_refusal[0]["error"]


@pytest.mark.parametrize("spec", ["local:0", "local:x", "http://host", "tcp://", "elsewhere"])
def test_bad_cluster_specs_are_refused(spec, photos, tmp_path):
    with pytest.raises(ValueError, match="cluster"):
        check_cluster(spec)
    code = main(["restore", str(photos / "p0.png"), "-o", str(tmp_path / "o.png"), "--method", "wiener",
                 "--psf", SPEC, "--cluster", spec])
    assert code == 2 and not (tmp_path / "o.png").exists()


def test_restore_command_on_a_local_cluster(photos, tmp_path, capsys):
    serial, clustered = tmp_path / "serial", tmp_path / "clustered"
    args = [str(photos), "--method", "wiener", "--psf", SPEC, "--json"]
    assert main(["restore", *args, "-o", str(serial)]) == 3
    capsys.readouterr()
    assert main(["restore", *args, "-o", str(clustered), "--cluster", "local:2"]) == 3  # broken.png fails
    report = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in report["results"]] == ["failed", "ok", "ok", "ok", "ok"]
    for path in serial.iterdir():
        assert (clustered / path.name).read_bytes() == path.read_bytes()
