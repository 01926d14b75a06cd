"""chalice's package cache (.chalice/deployments) never ships a truncated zip: chalice reuses any
zip it finds there, so one left half-written by a killed synthesis is deleted before packaging."""
import zipfile


def discard_broken_packages(deployments):
    from infra.stack import discard_broken_packages   # the CDK only when run (infra/names.py)

    return discard_broken_packages(deployments)


def test_a_truncated_package_is_discarded_and_a_whole_one_kept(tmp_path):
    whole, truncated, empty = tmp_path / "a-python3.14.zip", tmp_path / "b-python3.14.zip", tmp_path / "c.zip"
    for path in (whole, truncated):
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("python/lib/python3.14/site-packages/x.py", "x = 1\n" * 1000)
    truncated.write_bytes(truncated.read_bytes()[:-40])
    empty.write_bytes(b"")
    assert discard_broken_packages(tmp_path) == [truncated.name, empty.name]
    assert whole.exists() and not truncated.exists() and not empty.exists()


def test_no_cache_yet_is_nothing_to_discard(tmp_path):
    assert discard_broken_packages(tmp_path / "deployments") == []


def test_packaging_holds_the_checkout_lock_so_two_syntheses_never_share_a_half_written_zip():
    """Two pytest-xdist workers synthesize at once: while one packages, another process cannot
    start (it would reuse the half-written layer, or discard it under its writer)."""
    import fcntl

    from infra import resources as res
    from infra.stack import chalice_packaging

    with chalice_packaging(), open(res.ROOT / ".chalice" / "deployments.lock", "w") as other:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held = True
        else:
            held = False
            fcntl.flock(other, fcntl.LOCK_UN)
    assert held
    with open(res.ROOT / ".chalice" / "deployments.lock", "w") as after:
        fcntl.flock(after, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released once packaging is over
