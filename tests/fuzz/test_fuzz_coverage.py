"""Every POST route, every upload and every API endpoint of the url map has a fuzz test.

A new route that takes input fails :func:`test_every_input_route_is_fuzzed` until it is added
to :data:`FUZZED` with the test that fuzzes it. GET pages need no row: the query strings and URL
values of every GET route are fuzzed by ``test_fuzz_queries.py::test_fuzz_every_get_route``,
which walks the url map itself.
"""

from __future__ import annotations

import importlib

ADMIN = "test_fuzz_admin"
WAVE_BUTTONS = f"{ADMIN}::test_fuzz_wave_buttons"
API = "test_fuzz_api::test_fuzz_api"

# (endpoint, method) -> "module::test" that fuzzes it
FUZZED: dict[tuple[str, str], str] = {
    ("survey.about", "POST"): "test_fuzz_survey::test_fuzz_about_you",
    ("survey.section", "POST"): "test_fuzz_survey::test_fuzz_section_pages",
    ("survey.check", "POST"): "test_fuzz_survey::test_fuzz_check_your_answers",
    ("survey.open_link", "GET"): "test_fuzz_survey::test_fuzz_personal_links",
    ("auth.sign_in", "POST"): "test_fuzz_auth::test_fuzz_sign_in",
    ("auth.sign_out", "POST"): "test_fuzz_auth::test_fuzz_sign_out",
    ("api_tokens.index", "POST"): "test_fuzz_auth::test_fuzz_api_token_form",
    ("auth.second_factor", "POST"): "test_fuzz_people::test_fuzz_second_factor_codes",
    ("auth.set_up_second_factor", "POST"): "test_fuzz_people::test_fuzz_second_factor_codes",
    ("people.invite", "POST"): "test_fuzz_people::test_fuzz_invite",
    ("people.person", "POST"): "test_fuzz_people::test_fuzz_person_roles_and_switch",
    ("people.set_active", "POST"): "test_fuzz_people::test_fuzz_person_roles_and_switch",
    ("account.forgotten", "POST"): "test_fuzz_people::test_fuzz_forgotten_password",
    ("account.set_password", "POST"): "test_fuzz_people::test_fuzz_set_password_without_a_link",
    ("account.change_password", "POST"): "test_fuzz_people::test_fuzz_change_password",
    ("account.index", "POST"): "test_fuzz_people::test_fuzz_account_language",
    ("account.language", "POST"): "test_fuzz_people::test_fuzz_language_switch",
    ("api_tokens.revoke", "POST"): "test_fuzz_auth::test_fuzz_api_token_revoke",
    ("imports.upload", "POST"): "test_fuzz_uploads::test_fuzz_import_upload",
    ("admin.staff_list", "POST"): "test_fuzz_uploads::test_fuzz_staff_list_upload",
    ("admin.new_relationship", "POST"): f"{ADMIN}::test_fuzz_new_relationship",
    ("admin.edit_relationship", "POST"): f"{ADMIN}::test_fuzz_edit_relationship",
    ("admin.new_area", "POST"): f"{ADMIN}::test_fuzz_service_area_forms",
    ("admin.edit_area", "POST"): f"{ADMIN}::test_fuzz_service_area_forms",
    ("admin.delete_area", "POST"): f"{ADMIN}::test_fuzz_delete_an_area_in_use",
    ("admin.new_wave", "POST"): f"{ADMIN}::test_fuzz_new_wave",
    ("admin.extend_wave", "POST"): f"{ADMIN}::test_fuzz_extend_wave",
    ("admin.email_texts_page", "POST"): "test_fuzz_emails::test_fuzz_email_texts",
    ("admin.open_wave", "POST"): WAVE_BUTTONS,
    ("admin.close_wave", "POST"): WAVE_BUTTONS,
    ("admin.send_invitations", "POST"): WAVE_BUTTONS,
    ("admin.send_reminders", "POST"): WAVE_BUTTONS,
    ("admin.retry_failed", "POST"): WAVE_BUTTONS,
    ("admin.mail_merge", "POST"): WAVE_BUTTONS,
    ("admin.reminder_mail_merge", "POST"): WAVE_BUTTONS,
    ("admin.preview_section", "POST"): f"{ADMIN}::test_fuzz_preview_pages",
    ("admin.preview_about", "POST"): f"{ADMIN}::test_fuzz_preview_pages",
    ("admin.preview_check", "POST"): f"{ADMIN}::test_fuzz_preview_pages",
    ("actions.new_action", "POST"): f"{ADMIN}::test_fuzz_action_forms",
    ("actions.edit_action", "POST"): f"{ADMIN}::test_fuzz_action_forms",
    ("actions.targets", "POST"): f"{ADMIN}::test_fuzz_target_forms",
    ("actions.remove_target", "POST"): f"{ADMIN}::test_fuzz_target_forms",
    ("jobs.retry", "POST"): "test_fuzz_jobs::test_fuzz_job_buttons",
    ("jobs.recompute", "POST"): "test_fuzz_jobs::test_fuzz_job_buttons",
    ("downloads.prepare", "POST"): "test_fuzz_jobs::test_fuzz_prepare_a_download",
    ("dashboard.relationship", "GET"): "test_fuzz_queries::test_fuzz_dashboard_filters",
    ("dashboard.dimension", "GET"): "test_fuzz_queries::test_fuzz_dashboard_filters",
    ("dashboard.chart", "GET"): "test_fuzz_queries::test_fuzz_chart_downloads",
    ("dashboard.board_pack", "POST"): "test_fuzz_jobs::test_fuzz_board_pack_button",
    ("downloads.relationship", "GET"): "test_fuzz_queries::test_fuzz_every_get_route",
    ("downloads.download", "GET"): "test_fuzz_queries::test_fuzz_downloads",
    ("api.openapi", "GET"): API,
    ("api.relationships", "GET"): API,
    ("api.relationship_waves", "GET"): API,
    ("api.wave_scores", "GET"): API,
    ("api.wave_gaps", "GET"): API,
    ("api.relationship_trends", "GET"): API,
    ("api.relationship_alerts", "GET"): API,
    ("api.not_found", "GET"): API,
    ("api.portfolio", "GET"): API,
    ("api.norms", "GET"): API,
    ("api.relationship_targets", "GET"): API,
    ("api.wave_comment_counts", "GET"): API,
    ("api.wave_relative_weights", "GET"): API,
    ("api.wave_heat_map", "GET"): API,
    ("api.wave_margins", "GET"): API,
    ("api.wave_targets", "GET"): API,
    ("organisations.sign_in_settings", "POST"): (
        "test_fuzz_people::test_fuzz_organisation_sign_in_settings"
    ),
}


def input_routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Every (endpoint, method) that takes input beyond a page's address: each method but
    GET/HEAD/OPTIONS, every API endpoint, and the pages above whose GET reads input."""
    found = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method != "GET" or rule.endpoint.startswith("api.") or rule.rule.startswith("/api/"):
                found.add((rule.endpoint, method))
    return found


def test_every_input_route_is_fuzzed(app):
    missing = sorted(input_routes(app) - set(FUZZED))
    assert missing == [], "add a fuzz test for these routes to FUZZED in tests/fuzz/"


def test_every_row_names_a_route_and_a_real_test(app):
    served = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert sorted(set(FUZZED) - served) == [], "these rows name routes that no longer exist"
    for where in set(FUZZED.values()):
        module, _, name = where.partition("::")
        test = getattr(importlib.import_module(f"tests.fuzz.{module}"), name, None)
        assert callable(test), f"{where} does not exist"
