"""The « Calculs » tab: each calculator from the form's raw values, clear messages on bad input."""

from __future__ import annotations

import gradio as gr

from rag.web.calculators import FIELDS, compute, render, run, show_fields


def test_each_calculator_from_the_form():
    assert compute("seniority", years=7).value == 10
    assert compute("severance", years=8, wage=6000).value > 0
    assert compute("leave", months=12).value == 18
    assert compute("delegates", employees=320).value == 7
    assert compute("union_reps", employees=320).value == 2
    assert compute("overtime", hour="22:00", day="mardi").value == 50
    assert compute("minimum_wage", on="2026-03-01").value > 3000


def test_result_shows_arithmetic_and_article():
    text = render(compute("seniority", years=7))
    assert "10 %" in text and "art. 350" in text and "**Calcul**" in text and "1. " in text


def test_bad_inputs_get_a_clear_message():
    assert run("seniority", None, None, None, None, None, "", "", "dimanche", "").startswith("⚠ indiquez")
    assert run("delegates", None, None, None, None, 12.5, "", "", "dimanche", "").startswith("⚠ ")
    assert run("overtime", None, None, None, None, None, "25:99", "mardi", "dimanche", "").startswith("⚠ ")
    assert run("seniority", -3, None, None, None, None, "", "", "dimanche", "").startswith("⚠ ")


def test_only_the_fields_a_calculator_reads_are_shown():
    shown = show_fields("delegates")
    assert [u["visible"] for u in shown].count(True) == len(FIELDS["delegates"])


def test_the_tab_builds():
    from rag.web.calculators import build_calc_tab

    with gr.Blocks():
        with gr.Tab("Calculs"):
            build_calc_tab()
