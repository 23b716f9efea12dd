"""Every supported format: a fixture we wrote in that format loads to the counts stated by hand."""

from __future__ import annotations

import glob
import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from harness.loaders import FORMATS, ColumnMap, detect_format, load, load_many

FIX = Path(__file__).parent / "fixtures"
FIX_LM = "samples_gsm8k-cot-self-consistency_2024-05-01T12-00-00.jsonl"


def rows(loaded, *, model: str | None = None) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    c = loaded.counts
    return {
        q: (int(n), int(k))
        for m, q, n, k in zip(c.model, c.question_id, c.n, c.correct, strict=True)
        if model is None or m == model
    }


@pytest.mark.parametrize(
    "name", ["rollouts.csv", "rollouts.tsv", "rollouts.jsonl", "rollouts.jsonl.gz", "rollouts.parquet"]
)
def test_generic_rollouts_all_table_formats(name: str) -> None:
    got = load(str(FIX / name))
    assert rows(got) == {"q0": (4, 3), "q1": (4, 0), "q2": (4, 2)}
    c = got.counts
    # '72', '72.0', '$72' form one class; '\frac{1}{2}' and '0.5' one wrong class; the missing answer abstains
    assert c.correct_label.tolist() == ["72", None, "7"]
    assert c.wrong is not None and c.wrong[1].tolist()[:2] == [2, 1] and c.abstain.tolist() == [0, 1, 0]
    assert np.allclose(c.tokens, [100, 100, 100])
    assert got.answers is not None and got.answers.n_unparsed == 1
    assert any("1 of 12 samples" in n for n in got.notes)


def test_column_mapping_free_text_and_grading() -> None:
    cols = ColumnMap(question="problem_id", sample="run", text="completion", gold="reference", model="llm")
    got = load(str(FIX / "mapped_text.jsonl"), columns=cols)
    assert rows(got) == {"q0": (4, 3), "q1": (4, 2)}
    assert got.counts.models == ["m1"] and got.answers is not None and got.answers.graded_against_gold


def test_count_table_and_histogram() -> None:
    counts = load(str(FIX / "counts.csv"))
    assert counts.format == "counts" and rows(counts) == {"a": (10, 0), "b": (10, 5), "c": (20, 20)}
    assert counts.counts.flops_per_sample.tolist() == [1e9, 1e9, 2e9] and not counts.counts.answers_known
    assert any("varies between questions" in n for n in counts.notes)
    hist = load(str(FIX / "histogram.csv"))
    assert hist.format == "histogram" and rows(hist) == {"a": (6, 4), "b": (5, 1)}
    assert hist.counts.wrong is not None and hist.counts.wrong[:, 0].tolist() == [2, 4]


def test_list_rows_monkey_business_and_search_and_learn() -> None:
    mb = load(str(FIX / "hf_monkey" / "train.parquet"))
    assert mb.format == "monkey_business" and rows(mb) == {"1+1?": (3, 2), "2+2?": (3, 1)}
    sal = load(str(FIX / "search_and_learn.jsonl"))
    assert sal.format == "search-and-learn" and rows(sal) == {"test/1.json": (3, 2), "test/2.json": (3, 2)}
    assert sal.counts.tokens.tolist() == [310.0, 180.0]
    assert sal.rollouts is not None and sal.rollouts["score"].tolist()[:3] == [0.9, 0.8, 0.3]


def test_hf_local_dataset_directory_and_data_file(tmp_path: Path) -> None:
    got = load(str(FIX / "hf_monkey"), format="hf")
    assert rows(got) == {"1+1?": (3, 2), "2+2?": (3, 1)}
    assert detect_format(str(FIX / "hf_monkey")) == "hf"
    # a datasets.save_to_disk directory
    import datasets

    datasets.disable_progress_bars()
    ds = datasets.Dataset.from_parquet(
        str(FIX / "hf_monkey" / "train.parquet"), cache_dir=str(tmp_path / "c")
    )
    ds.save_to_disk(str(tmp_path / "saved"))
    assert rows(load("hf:" + str(tmp_path / "saved"))) == {"1+1?": (3, 2), "2+2?": (3, 1)}


def test_lm_eval_samples_repeats_and_filters() -> None:
    got = load(str(FIX / "samples_gsm8k-cot-self-consistency_2024-05-01T12-00-00.jsonl"))
    assert got.format == "lm-eval" and rows(got) == {"0": (3, 2), "1": (3, 2)}
    assert any("2 lines of other filters not used" in n for n in got.notes)
    assert any("no filter keeps one answer per repeat" in n for n in got.notes)  # take_first filters only


@pytest.mark.parametrize("name", ["inspect_log.json", "inspect_log.eval"])
def test_inspect_logs_epochs_scores_tokens(name: str) -> None:
    got = load(str(FIX / name))
    assert got.format == "inspect" and rows(got) == {"s1": (3, 2), "s2": (3, 1)}
    assert got.counts.models == ["openai/gpt-4o-mini"]
    assert got.counts.tokens.tolist() == [310.0, 165.0]  # the grader's model_usage entry is not counted
    assert got.counts.abstain is not None and got.counts.abstain.tolist() == [0, 1]  # NOANSWER: no vote


def test_lighteval_details() -> None:
    path = glob.glob(str(FIX / "details" / "*" / "*" / "*" / "*.parquet"))[0]
    got = load(path)
    assert got.format == "lighteval" and rows(got) == {"0": (3, 2), "1": (3, 1)}
    # details/<model_name>/<date_id>/: a hub model name org/model spans two folders
    assert got.counts.models == ["org/my-model"]


def test_nemo_skills_seeds_pool_into_groups() -> None:
    got = load_many([str(FIX / "nemo" / "output-rs0.jsonl"), str(FIX / "nemo" / "output-rs1.jsonl")])
    assert got.format == "nemo-skills" and rows(got) == {"0": (2, 2), "1": (2, 1)}
    assert got.rollouts is not None and sorted(set(got.rollouts["group"])) == ["seed0", "seed1"]
    assert got.counts.tokens.tolist() == [60.0, 80.0]


def test_evalplus_and_human_eval() -> None:
    ep = load(str(FIX / "eval_results.json"))
    assert ep.format == "evalplus" and rows(ep) == {"HumanEval/0": (2, 1), "HumanEval/1": (2, 0)}
    base = load(str(FIX / "eval_results.json"), columns=ColumnMap(correct="base"))
    assert rows(base)["HumanEval/0"] == (2, 2)
    he = load(str(FIX / "samples.jsonl_results.jsonl"))
    assert he.format == "human-eval" and rows(he) == {"HumanEval/0": (3, 2), "HumanEval/1": (3, 0)}


def test_simple_evals_needs_and_uses_n_questions() -> None:
    got = load(str(FIX / "math_gpt-4o-mini_allresults.json"), n_questions=2)
    assert got.format == "simple-evals" and rows(got) == {"0": (3, 2), "1": (3, 2)}
    # an unextracted answer renders as the text 'None' in the example HTML: no answer, not a class 'None'
    assert got.counts.abstain is not None and got.counts.abstain.tolist() == [0, 1]


def test_activeprompt_histogram_with_gsm8k_gold() -> None:
    got = load(str(FIX / "activeprompt_k3.txt"), gold=str(FIX / "gsm8k_gold.jsonl"))
    assert got.format == "activeprompt" and rows(got) == {"5": (3, 2), "9": (3, 3)}  # '3.0' equals gold '3'


def test_bon_first_success_block_detected_and_recorded() -> None:
    got = load(str(FIX / "bon-model_text_t1.0_n9.jsonl"))
    assert rows(got) == {"0": (3, 1), "1": (6, 1), "2": (9, 0), "3": (3, 2)}
    assert set(got.counts.stopping.tolist()) == {"first-success-block:3"} and not got.counts.fixed_n
    assert any(n.startswith("warning:") and "first block of 3" in n for n in got.notes)
    forced = load(str(FIX / "bon-model_text_t1.0_n9.jsonl"), stopping="fixed")
    assert forced.counts.fixed_n


def test_matharena_percentages_to_counts() -> None:
    got = load(str(FIX / "result_data.json"))
    assert got.format == "matharena" and rows(got, model="model-a") == {"1": (4, 4), "2": (4, 2)}
    assert any("summary rows skipped: Avg" in n for n in got.notes)


def test_load_many_names_models_after_files_without_a_model_column(tmp_path: Path) -> None:
    a, b = tmp_path / "run_a.csv", tmp_path / "run_b.csv.gz"
    shutil.copy(FIX / "rollouts.csv", a)
    b.write_bytes(gzip.compress((FIX / "rollouts.csv").read_bytes()))
    got = load_many([str(a), str(b)])
    assert sorted(got.counts.models) == ["run_a", "run_b"] and got.counts.n_questions == 6
    assert any("model named 'run_a' after the file" in n for n in got.notes)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("rollouts.csv", "csv"),
        ("rollouts.jsonl.gz", "jsonl"),
        ("inspect_log.eval", "inspect"),
        ("inspect_log.json", "inspect"),
        ("eval_results.json", "evalplus"),
        ("result_data.json", "matharena"),
        ("math_gpt-4o-mini_allresults.json", "simple-evals"),
        ("samples.jsonl_results.jsonl", "human-eval"),
        ("search_and_learn.jsonl", "search-and-learn"),
        ("activeprompt_k3.txt", "activeprompt"),
        ("bon-model_text_t1.0_n9.jsonl", "bon"),
        (os.path.join("nemo", "output-rs0.jsonl"), "nemo-skills"),
    ],
)
def test_detect_format(name: str, fmt: str) -> None:
    assert detect_format(str(FIX / name)) == fmt and fmt in FORMATS


def test_hub_id_parsing() -> None:
    from harness.loaders.hf import parse_hub_id

    assert parse_hub_id("hf:ScalingIntelligence/monkey_business:MATH_Pythia-160M@test") == (
        "ScalingIntelligence/monkey_business",
        "MATH_Pythia-160M",
        "test",
    )
    assert parse_hub_id("hf:HuggingFaceH4/MATH-500") == ("HuggingFaceH4/MATH-500", None, None)


def test_lighteval_new_layout(tmp_path: Path) -> None:
    import pandas as pd

    df = pd.DataFrame(
        {
            "doc": [
                {"query": "1+1", "choices": ["2"], "gold_index": 0},
                {"query": "2+2", "choices": ["4"], "gold_index": 0},
            ],
            "model_response": [
                {"text": ["\\boxed{2}", "\\boxed{3}"], "output_tokens": [[1, 2, 3], [1, 2]]},
                {"text": ["\\boxed{4}", "\\boxed{4.0}"], "output_tokens": [[1], [1, 2]]},
            ],
            "metric": [{"maj@2": 1.0}, {"maj@2": 1.0}],
        }
    )
    p = tmp_path / "details" / "new-model" / "2025-01-01" / "details_math_2025-01-01.parquet"
    p.parent.mkdir(parents=True)
    df.to_parquet(p, index=False)
    got = load(str(p))
    assert got.format == "lighteval" and rows(got) == {"0": (2, 1), "1": (2, 2)}
    assert got.counts.models == ["new-model"] and got.counts.tokens.tolist() == [5.0, 3.0]


def test_inspect_non_boolean_score_is_refused(tmp_path: Path) -> None:
    import json

    from harness._validation import HarnessInputError

    log = json.loads((FIX / "inspect_log.json").read_text())
    log["samples"][0]["scores"]["match"]["value"] = 0.7
    p = tmp_path / "log.json"
    p.write_text(json.dumps(log))
    with pytest.raises(HarnessInputError, match=r"0\.7 is not boolean-like.*C/I/N/P"):
        load(str(p))


def test_nemo_seed_pooling_merges_equivalent_answers_across_files(tmp_path: Path) -> None:
    import json

    for seed, ans in ((0, "\\sqrt{4}"), (1, "2"), (2, "3")):  # only math-verify knows sqrt(4) = 2
        rec = {"problem": "p", "expected_answer": "1/3", "predicted_answer": ans, "symbolic_correct": False}
        (tmp_path / f"output-rs{seed}.jsonl").write_text(json.dumps(rec) + "\n")
    got = load_many([str(tmp_path / f"output-rs{s}.jsonl") for s in range(3)])
    assert got.counts.wrong is not None and got.counts.wrong[0].tolist() == [2, 1]


def test_json_array_with_mapped_list_columns(tmp_path: Path) -> None:
    import json

    rows_ = [
        {"id": "a", "gen": ["\\boxed{1}", "\\boxed{2}"], "ok": [True, False]},
        {"id": "b", "gen": ["\\boxed{5}"], "ok": [True]},
    ]
    p = tmp_path / "lists.json"
    p.write_text(json.dumps(rows_))
    got = load(str(p), columns=ColumnMap(text="gen", correct="ok", question="id"))
    assert rows(got) == {"a": (2, 1), "b": (1, 1)} and got.counts.correct_label.tolist() == ["1", "5"]


def _zip_without(src: Path, dst: Path, drop: set[str]) -> None:
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            if name not in drop:
                zout.writestr(name, zin.read(name))


def test_inspect_unfinished_eval_takes_the_header_from_the_journal(tmp_path: Path) -> None:
    # an eval still running (or killed) has _journal/start.json and samples but no header.json yet
    p = tmp_path / "running.eval"
    _zip_without(FIX / "inspect_log.eval", p, {"header.json", "summaries.json", "reductions.json"})
    got = load(str(p))
    assert got.counts.models == ["openai/gpt-4o-mini"] and rows(got) == {"s1": (3, 2), "s2": (3, 1)}
    # the first .eval releases wrote start.json at the top level
    import zipfile

    q = tmp_path / "early.eval"
    with zipfile.ZipFile(p) as zin, zipfile.ZipFile(q, "w") as zout:
        for name in zin.namelist():
            zout.writestr("start.json" if name == "_journal/start.json" else name, zin.read(name))
    assert load(str(q)).counts.models == ["openai/gpt-4o-mini"]


def test_inspect_text_values_deprecated_score_and_usage_fallbacks(tmp_path: Path) -> None:
    import json

    log = json.loads((FIX / "inspect_log.json").read_text())
    values = {"C": "yes", "I": "No", "N": "false", "P": "true"}
    for smp in log["samples"]:
        score = smp.pop("scores")["match"]
        score["value"] = values[score["value"]]
        smp["score"] = score  # logs older than the scores dict hold one Score under 'score'
        smp["model_usage"] = {"openai/gpt-4o": smp["model_usage"]["openai/gpt-4o-mini"]}  # key != eval.model
    p = tmp_path / "old.json"
    p.write_text(json.dumps(log))
    got = load(str(p))
    assert rows(got) == {"s1": (3, 2), "s2": (3, 1)} and got.counts.tokens.tolist() == [310.0, 165.0]
    for smp in log["samples"]:
        del smp["model_usage"]  # only output.usage left
    p.write_text(json.dumps(log))
    assert load(str(p)).counts.tokens.tolist() == [310.0, 165.0]


def test_lm_eval_without_filter_field_and_loglikelihood_resps(tmp_path: Path) -> None:
    import json

    from harness._validation import HarnessInputError

    recs = [json.loads(line) for line in (FIX / FIX_LM).read_text().splitlines()]
    for r in recs:  # early v0.4 releases wrote no 'filter'/'metrics' keys
        del r["filter"], r["metrics"]
    p = tmp_path / "samples_gsm8k_2024-01-01T00-00-00.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in recs))
    got = load(str(p))
    assert rows(got) == {"0": (3, 2), "1": (3, 2)}
    assert any("2 lines of other filters not used" in n for n in got.notes)
    assert any("no filter keeps one answer per repeat" in n for n in got.notes)  # take_first filters only
    # a multiple-choice task: resps hold [loglikelihood, is_greedy] pairs as strings (sanitize_list)
    mc = dict(recs[0], resps=[[["-3.2", "False"]], [["-1.0", "True"]]], filtered_resps=[["-3.2", "False"]])
    p.write_text(json.dumps(mc) + "\n")
    with pytest.raises(HarnessInputError, match=r"line 1.*resps.*loglikelihood"):
        load(str(p))
    single = dict(recs[0], resps=[[["-1.2", "True"]]])
    p.write_text(json.dumps(single) + "\n")
    with pytest.raises(HarnessInputError, match=r"not a list of generated texts"):
        load(str(p))


def test_evalplus_older_layout_statuses_and_base_only(tmp_path: Path) -> None:
    import json

    old = {
        "date": "2023-06-01 00:00",
        "hash": "h",
        "eval": {
            "HumanEval/0": {
                "nfiles": 3,
                "base": [["success", []], ["success", []], ["timed out", []]],
                "plus": [["success", []], ["failed", []], ["timed out", []]],
            }
        },
    }
    p = tmp_path / "eval_results.json"
    p.write_text(json.dumps(old))
    assert rows(load(str(p))) == {"HumanEval/0": (3, 1)}
    # newer layout run with --base-only: plus_status is null; file named <samples>.eval_results.json
    new = json.loads((FIX / "eval_results.json").read_text())
    for res in new["eval"].values():
        for r in res:
            r["plus_status"], r["plus_fail_tests"] = None, []
    q = tmp_path / "samples.eval_results.json"
    q.write_text(json.dumps(new))
    assert detect_format(str(q)) == "evalplus"
    assert rows(load(str(q))) == {"HumanEval/0": (2, 2), "HumanEval/1": (2, 0)}


def test_nemo_judgement_text_and_unfinished_lines(tmp_path: Path) -> None:
    import json

    # an LLM judge writes free text ending 'Judgement: Yes/No' (is_correct_judgement); no judge_correct field
    verdicts = {0: ["Reasoning: same.\nJudgement: Yes", "Judgement: no"], 1: ["Judgement: YES", "garbled"]}
    for seed, (j0, j1) in verdicts.items():
        lines = [
            {"problem": "p0", "expected_answer": "3", "generation": "\\boxed{3}", "predicted_answer": "3",
             "judgement": j0, "num_generated_tokens": 30},
            {"problem": "p1", "expected_answer": "8", "generation": "\\boxed{9}", "predicted_answer": "9",
             "judgement": j1, "num_generated_tokens": 40},
        ]
        if seed == 1:
            lines.append({})  # batch_evaluate_results keeps {} for a generation that did not finish
        (tmp_path / f"output-rs{seed}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    got = load_many([str(tmp_path / f"output-rs{s}.jsonl") for s in (0, 1)])
    assert rows(got) == {"0": (2, 2), "1": (2, 0)}
    assert any("judgement" in n for n in got.notes) and any("1 empty lines" in n for n in got.notes)


def test_monkey_business_without_question_text_uses_orig_dset_idx(tmp_path: Path) -> None:
    import pandas as pd

    df = pd.read_parquet(FIX / "hf_monkey" / "train.parquet").drop(columns=["question"])
    p = tmp_path / "mb.parquet"
    df.to_parquet(p, index=False)
    got = load(str(p))
    assert got.format == "monkey_business" and rows(got) == {"0": (3, 2), "1": (3, 1)}
