"""What a dataset zip may hold: checked on its central directory, every reason reported."""

import io
import stat
import zipfile

from assetflow.domain.zipimport import ZipLimits, path_problem, plan_zip


def entries(files: dict[str, bytes]) -> list[zipfile.ZipInfo]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return zipfile.ZipFile(buffer).infolist()


def test_a_good_zip_plans_its_images_and_annotations() -> None:
    plan = plan_zip(
        entries({"images/a/1/x.jpg": bytes(range(200)), "annotations.json": b"{}"}), ZipLimits()
    )
    assert plan.problems == []
    assert [path for _, path in plan.images] == ["a/1/x.jpg"]
    assert plan.annotations is not None and plan.total_bytes == 202


def test_every_problem_is_reported_with_its_entry() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("images/ok.jpg", b"\xff\xd8\xff" + bytes(range(256)))
        archive.writestr("images/../evil.jpg", b"x")
        archive.writestr("/etc/passwd", b"x")
        archive.writestr("images/notes.txt", b"hello")
        archive.writestr("readme.md", b"hello")
        archive.writestr("images/bomb.png", bytes(10 << 20))  # 10 MiB of zeros
        link = zipfile.ZipInfo("images/link.jpg")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    plan = plan_zip(zipfile.ZipFile(buffer).infolist(), ZipLimits())
    text = "\n".join(plan.problems)
    assert "'images/../evil.jpg': an empty, '.' or '..' segment" in text
    assert "'/etc/passwd': an absolute path" in text
    assert "'images/notes.txt': not an image file under images/" in text
    assert "'readme.md': outside images/" in text
    assert "'images/bomb.png': compression ratio" in text and "above 100:1" in text
    assert "'images/link.jpg': a symbolic link" in text
    assert [path for _, path in plan.images] == ["ok.jpg"]


def test_entry_count_and_total_size_limits() -> None:
    files = {f"images/{i}.jpg": bytes(range(256)) for i in range(5)}
    plan = plan_zip(entries(files), ZipLimits(max_entries=3))
    assert plan.problems == ["more than 3 entries"]
    plan = plan_zip(entries(files), ZipLimits(max_total_bytes=1000))
    assert plan.problems == ["1,280 bytes uncompressed, above the limit of 1,000"]


def test_path_rules() -> None:
    assert path_problem("images/a b/ü.jpg") is None
    assert path_problem("C:/x.jpg") == "an absolute path"
    assert path_problem("images\\x.jpg") == "a backslash (not a zip path separator)"
    assert path_problem("images//x.jpg") == "an empty, '.' or '..' segment"
    assert path_problem("images/\x01.jpg") == "a control character"
