"""Checks of an issue's languages: text and items with no translation, and languages
whose interface strings have no catalog. Warnings: readers still get every item, in
the default language (or not at all with ``[i18n] fallback = "omit"``)."""
from __future__ import annotations

from typing import Iterable

from ..config import Settings
from ..content import Finding, Issue
from ..content.translations import ISSUE_TEXT_KEYS, translation_path, untranslated
from ..i18n import SOURCE_LANGUAGE, catalog_path, language_name


def check_translations(issue: Issue, settings: Settings) -> Iterable[Finding]:
    """Per language: issue text and items with no translation, and missing catalogs."""
    if len(issue.languages) < 2:
        return
    default, issue_toml = issue.languages[0], issue.path / "issue.toml"
    omit = settings.table("i18n").get("fallback") == "omit"
    missing_items = untranslated(issue)
    for language in issue.languages[1:]:
        text, lines = issue.translations.get(language, {}), issue.translation_lines.get(language, {})
        keys = [key for key in ISSUE_TEXT_KEYS if getattr(issue, key) and key not in text]
        keys += [f"section {n}" for n, s in enumerate(issue.sections, 1) if s.title and "title" not in s.translations.get(language, {})]
        if keys:
            yield Finding("warning", f"no {language} text for {', '.join(keys)} (in [{language}] and each section's "
                                     f"{language}.title): {language} readers get the {default} text", issue_toml, lines.get("") or 1)
        for item in missing_items[language]:
            result = f"left out of the {language} edition" if omit else f"{language} readers get it in {language_name(default, 'en')}"
            yield Finding("warning", f"not translated into {language} (no {translation_path(item.path, language).name}): {result}", item.path, 1)
        if language.split("-")[0] != SOURCE_LANGUAGE and catalog_path(settings.locale_dir, language) is None:
            yield Finding("warning", f"no catalog for {language} ({settings.locale_dir}/{language}/LC_MESSAGES/digest.po): "
                                     "its interface text (links, footer) stays English", issue_toml, issue.lines.get("languages"))
