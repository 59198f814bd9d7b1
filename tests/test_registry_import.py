"""`flask registry import FILE.csv`: validated row by row, all or nothing, re-import updates."""
from sqlalchemy import func, select

from backend.demo.seed import demo_national_id
from backend.models import AuditEntry, Person
from backend.registry import identity
from backend.service.extensions import db

HEADER = "national_id,name,phone,home_region,insurance_class,personal_account_fen,transit_wallet_fen\n"
GOOD = [
    (demo_national_id("310118", "19700101", "011"), "王建国", "13800000001", "310118", "employee", "120000", "500"),
    (demo_national_id("320509", "19881231", "022"), "李娜", "13800000002", "320509", "resident", "0", "0"),
    (demo_national_id("330421", "19450606", "033"), "欧阳秀兰", "13800000003", "330421", "resident", "0", "1200"),
]


def write_csv(tmp_path, rows, header=HEADER, name="persons.csv"):
    path = tmp_path / name
    path.write_text(header + "".join(",".join(row) + "\n" for row in rows), encoding="utf-8")
    return str(path)


def person_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Person))


def test_a_good_file_imports_every_row(runner, seeded, tmp_path):
    result = runner.invoke(args=["registry", "import", write_csv(tmp_path, GOOD)])
    assert result.exit_code == 0, result.output
    assert "Imported 3 row(s): 3 new, 0 updated." in result.output
    with seeded.app_context():
        key = seeded.config["ID_HASH_KEY"]
        person = db.session.scalars(select(Person).filter_by(
            national_id_hash=identity.hash_national_id(key, GOOD[0][0]))).one()
        assert (person.name, person.home_region, person.insurance_class) == ("王建国", "310118", "employee")
        assert person.personal_account_fen == 120000 and person.transit_wallet_fen == 500
        assert person.national_id_masked == "310118********0117"[:14] + GOOD[0][0][14:]
        assert len(person.holder_id) == 11
        entry = db.session.scalars(select(AuditEntry).filter_by(action="registry.import")).one()
        assert '"inserted": 3' in entry.detail


def test_importing_again_updates_and_never_duplicates(runner, seeded, tmp_path):
    assert runner.invoke(args=["registry", "import", write_csv(tmp_path, GOOD)]).exit_code == 0
    before = person_count(seeded)
    with seeded.app_context():
        holder_ids = set(db.session.scalars(select(Person.holder_id)))
    changed = [GOOD[0][:1] + ("王建国", "13900000009", "330421", "resident", "999", "999")] + GOOD[1:]
    result = runner.invoke(args=["registry", "import", write_csv(tmp_path, changed, name="again.csv")])
    assert result.exit_code == 0, result.output
    assert "0 new, 3 updated" in result.output
    assert person_count(seeded) == before
    with seeded.app_context():
        key = seeded.config["ID_HASH_KEY"]
        person = db.session.scalars(select(Person).filter_by(
            national_id_hash=identity.hash_national_id(key, GOOD[0][0]))).one()
        assert (person.phone, person.home_region, person.insurance_class) == ("13900000009", "330421", "resident")
        assert person.personal_account_fen == 120000  # opening balances are not overwritten
        assert set(db.session.scalars(select(Person.holder_id))) == holder_ids  # pseudonyms kept


def test_any_bad_row_imports_nothing_and_names_each_line(runner, seeded, tmp_path):
    good_id = GOOD[0][0]
    bad_checksum = good_id[:17] + ("0" if good_id[17] != "0" else "1")
    rows = [
        GOOD[0],
        (bad_checksum, "甲", "13800000004", "310118", "employee", "0", "0"),          # line 3
        (GOOD[1][0], "乙", "12345", "320509", "resident", "0", "0"),                  # line 4
        (GOOD[2][0], "丙", "13800000005", "110105", "resident", "0", "0"),            # line 5
        (demo_national_id("310118", "19990231", "044"), "丁", "13800000006", "310118", "employee", "0", "0"),
        (demo_national_id("310118", "19800101", "055"), "戊", "13800000007", "310118", "retired", "0", "0"),
        (demo_national_id("310118", "19800101", "066"), "己", "13800000008", "310118", "employee", "-5", "0"),
        (demo_national_id("310118", "19800101", "077"), "庚", "13800000009", "310118", "employee", "0"),
    ]
    before = person_count(seeded)
    result = runner.invoke(args=["registry", "import", write_csv(tmp_path, rows)])
    assert result.exit_code == 1
    output = result.output
    assert "line 3: national_id: checksum character is wrong" in output
    assert "line 4: phone:" in output
    assert "line 5: home_region: unknown region code '110105'" in output
    assert "line 6: national_id: the birth date inside it is not a real date" in output
    assert "line 7: insurance_class:" in output
    assert "line 8: personal_account_fen:" in output
    assert "line 9: expected 7 fields, found 6" in output
    assert "7 bad row(s) in 8: nothing was imported." in output
    assert "line 2" not in output
    assert person_count(seeded) == before


def test_the_same_person_twice_in_one_file_is_refused(runner, seeded, tmp_path):
    rows = GOOD + [(GOOD[1][0].lower(), "李娜", "13800000002", "320509", "resident", "0", "0")]
    result = runner.invoke(args=["registry", "import", write_csv(tmp_path, rows)])
    assert result.exit_code == 1
    assert "line 5: national_id: the same person as line 3" in result.output
    assert person_count(seeded) == 12


def test_whole_file_problems_are_reported_without_a_traceback(runner, seeded, tmp_path):
    cases = {
        "empty.csv": b"",
        "columns.csv": b"national_id,name\n",
        "extra.csv": (HEADER.strip() + ",shoe_size\n").encode(),
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        result = runner.invoke(args=["registry", "import", str(path)])
        assert result.exit_code != 0
        assert "Traceback" not in result.output and "Nothing was imported" in result.output, name
    missing = runner.invoke(args=["registry", "import", str(tmp_path / "missing.csv")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_a_file_that_is_not_utf8_imports_nothing(runner, seeded, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(HEADER.encode() + ",".join(GOOD[0]).encode("gbk") + b"\n")
    result = runner.invoke(args=["registry", "import", str(path)])
    assert result.exit_code == 1
    assert "not valid UTF-8" in result.output
    assert person_count(seeded) == 12


def test_optional_columns_and_a_bom_are_accepted(runner, seeded, tmp_path):
    header = "\ufeffnational_id,name,phone,home_region,insurance_class,status,password_free_limit_fen\n"
    rows = [GOOD[0][:5] + ("suspended", "20000")]
    result = runner.invoke(args=["registry", "import", write_csv(tmp_path, rows, header=header)])
    assert result.exit_code == 0, result.output


def test_duplicates_are_found_across_chunks_and_nothing_is_imported(runner, seeded, tmp_path):
    seeded.config["IMPORT_CHUNK_ROWS"] = 2  # chunks: lines 2-3, 4-5, 6
    rows = GOOD + [(demo_national_id("310118", "19800101", "088"), "辛", "13800000010", "310118",
                    "employee", "0", "0"), GOOD[0]]
    result = runner.invoke(args=["registry", "import", write_csv(tmp_path, rows)])
    assert result.exit_code == 1, result.output
    assert "line 6: national_id: the same person as line 2" in result.output
    assert person_count(seeded) == 12


def test_small_chunks_import_the_same_as_one(runner, seeded, tmp_path):
    seeded.config["IMPORT_CHUNK_ROWS"] = 1
    result = runner.invoke(args=["registry", "import", write_csv(tmp_path, GOOD)])
    assert result.exit_code == 0, result.output
    assert "3 new, 0 updated" in result.output
    again = runner.invoke(args=["registry", "import", write_csv(tmp_path, GOOD, name="b.csv")])
    assert "0 new, 3 updated" in again.output
    assert person_count(seeded) == 15


def test_insured_since_is_an_optional_column(runner, seeded, tmp_path):
    header = HEADER.strip() + ",insured_since\n"
    rows = [GOOD[0] + ("2001-07-01",), GOOD[1] + ("",)]
    result = runner.invoke(args=["registry", "import", write_csv(tmp_path, rows, header=header)])
    assert result.exit_code == 0, result.output
    key = seeded.config["ID_HASH_KEY"]

    def since(national_id):
        with seeded.app_context():
            return db.session.scalars(select(Person.insured_since).filter_by(
                national_id_hash=identity.hash_national_id(key, national_id))).one()
    assert str(since(GOOD[0][0])) == "2001-07-01" and since(GOOD[1][0]) is None
    # A file without the column keeps what the registry knew; one with it changes it.
    again = runner.invoke(args=["registry", "import", write_csv(tmp_path, GOOD[:1], name="b.csv")])
    assert again.exit_code == 0, again.output
    assert str(since(GOOD[0][0])) == "2001-07-01"
    changed = [GOOD[0] + ("2003-01-01",)]
    assert runner.invoke(args=["registry", "import", write_csv(
        tmp_path, changed, header=header, name="c.csv")]).exit_code == 0
    assert str(since(GOOD[0][0])) == "2003-01-01"


def test_a_bad_insured_since_is_named_and_nothing_is_imported(runner, seeded, tmp_path):
    header = HEADER.strip() + ",insured_since\n"
    rows = [GOOD[0] + ("2001-7-1",), GOOD[1] + ("2001-02-30",),
            GOOD[2] + ("1944-01-01",),  # before the birth date in the ID (1945-06-06)
            (demo_national_id("310118", "19800101", "099"),) + GOOD[0][1:] + ("2999-01-01",)]
    result = runner.invoke(args=["registry", "import", write_csv(tmp_path, rows, header=header)])
    assert result.exit_code == 1
    assert "line 2: insured_since: must be a date written YYYY-MM-DD" in result.output
    assert "line 3: insured_since: must be a date written YYYY-MM-DD" in result.output
    assert "line 4: insured_since: must lie between the birth date and today" in result.output
    assert "line 5: insured_since: must lie between the birth date and today" in result.output
    assert person_count(seeded) == 12


def test_duplicates_are_found_across_merges_and_nothing_is_imported(seeded, tmp_path):
    import io

    from backend.registry.importer import import_persons

    rows = GOOD + [GOOD[2]]
    text_ = HEADER + "".join(",".join(row) + "\n" for row in rows)
    problems = []
    with seeded.app_context(), db.engine.connect() as connection:
        transaction = connection.begin()
        report = import_persons(connection, io.StringIO(text_),
                                id_hash_key=seeded.config["ID_HASH_KEY"],
                                on_problem=lambda *p: problems.append(p), chunk_rows=1,
                                merge_chunks=1)  # each row merged on its own
        transaction.rollback()
    assert not report.ok and problems == [(5, "national_id: the same person as line 4")]


def test_the_importers_hasher_is_hash_national_id():
    for key in ("k", "x" * 64, "y" * 65, "密钥" * 40):
        hasher = identity.NationalIdHasher(key)
        for national_id in ("11010519491231002X", GOOD[0][0]):
            assert hasher(national_id) == identity.hash_national_id(key, national_id)
