"""Jinja2 templates of the class report and the student page (autoescaped: every text is untrusted)."""

from __future__ import annotations

__all__ = ["TEMPLATES"]

_BASE = """<!doctype html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}" data-lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="hfcourse {{ version }}">
<title>{% block title %}{% endblock %}</title>
<style>{{ css }}</style>
</head>
<body class="{% block kind %}{% endblock %}">
<header>
<h1>{% block heading %}{% endblock %}</h1>
<div class="langs">{{ t("language") }}:
<button type="button" data-lang="en">English</button><button type="button" data-lang="zh">中文</button></div>
</header>
{% block content %}{% endblock %}
<script>{{ js }}</script>
</body>
</html>
"""

_CLASS = """{% extends "base.html" %}
{% block title %}{{ course_text }} — Class report / 班级成绩报告{% endblock %}
{% block kind %}class-report{% endblock %}
{% block heading %}{{ course }} · {{ t("class_report") }}{% endblock %}
{% block content %}
<p class="summary">{{ t("summary", graded=facts.graded, errors=facts.errors, mean=pct(mean), median=pct(median)) }}</p>

<section id="distribution">
<h2>{{ t("distribution") }}</h2>
<h3>{{ t("overall") }}</h3>
{{ histogram }}
<h3>{{ t("per_section") }}</h3>
{{ section_boxes }}
</section>

<section id="sections">
<h2>{{ t("sections") }}</h2>
<table class="sections">
<thead><tr><th>{{ t("section") }}</th><th>{{ t("title") }}</th><th class="num">{{ t("points") }}</th>
<th class="num">{{ t("mean") }}</th><th class="num">{{ t("median") }}</th><th class="num">{{ t("full_marks") }}</th>
<th class="num">{{ t("not_attempted_n") }}</th><th>{{ t("course_link") }}</th></tr></thead>
<tbody>
{% for s in stats %}
<tr id="{{ s.info.anchor }}"><td>{{ s.info.id }}</td><td>{{ bi(s.info.title, s.info.title_zh) }}</td>
<td class="num">{{ num(s.max_points) }}</td><td class="num">{{ pct(s.mean) }}</td><td class="num">{{ pct(s.median) }}</td>
<td class="num">{{ s.full }} / {{ s.fractions | length }}</td><td class="num">{{ s.not_attempted }}</td>
<td>{% if s.info.url %}<a href="{{ s.info.url }}" rel="noreferrer">{{ s.info.id }}</a>{% endif %}</td></tr>
{% endfor %}
</tbody></table>
</section>

<section id="heatmap-section">
<h2>{{ t("heatmap") }}</h2>
<p class="help">{{ t("heatmap_help") }}</p>
<table class="heatmap sortable" id="heatmap">
<thead><tr><th data-key="name" data-first="asc">{{ t("student") }}</th>
<th data-key="total" data-first="desc" class="num">{{ t("total") }}</th>
{% for info in infos %}<th data-key="{{ info.id }}" data-first="desc" title="{{ info.title }}">{{ info.id }}</th>{% endfor %}
</tr></thead>
<tbody>
{% for row in heat %}
<tr class="{{ 'graded' if row.student.graded else 'error' }}" data-student="{{ row.student.name }}">
<td data-v="{{ row.student.name }}">{{ row.student.name }}</td>
{% if row.student.graded %}
<td class="num" data-v="{{ '%.6f' | format(row.student.fraction) }}">{{ num(row.student.run.score) }} / {{ num(row.student.run.max_score) }}</td>
{% else %}<td class="num" data-v="-1">{{ t("error") }}</td>{% endif %}
{% for c in row.cells %}
<td class="cell {{ c.state }}{{ ' na' if c.state == 'not_attempted' else '' }}" data-v="{{ '%.6f' | format(c.fraction) if c.fraction is not none else -1 }}"
 style="background-color: {{ color(c.fraction) }}" title="{{ row.student.name }} · {{ num(c.score) }} / {{ num(c.max_points) }}">
{%- if c.state == "missing" %}–{% elif c.state == "not_attempted" %}n/a{% else %}{{ pct(c.fraction) }}{% endif -%}
</td>
{% endfor %}
</tr>
{% endfor %}
</tbody></table>
</section>

<section id="failing">
<h2>{{ t("failing") }}</h2>
{% if failing %}
<table class="failing">
<thead><tr><th>{{ t("section") }}</th><th>{{ t("test") }}</th><th>{{ t("visibility") }}</th><th class="num">{{ t("failed") }}</th>
{% for c in categories %}<th class="num" title="{{ c }}: {{ category_text[c][0] }}">{{ bi(*category_short[c]) }}</th>{% endfor %}
<th class="num">{{ t("other") }}</th><th>{{ t("hint") }}</th></tr></thead>
<tbody>
{% for f in failing %}
<tr><td><a href="#{{ f.section.anchor }}">{{ f.section.id }}</a></td><td><code>{{ f.name }}</code></td><td>{{ f.visibility }}</td>
<td class="num">{{ f.failed }} / {{ f.ran }}</td>
{% for c in categories %}<td class="num">{{ f.categories[c] or "" }}</td>{% endfor %}
<td class="num" title="{{ f.other_detail }}">{{ f.other or "" }}</td>
<td>{{ bi(f.hint, f.hint_zh) }}</td></tr>
{% endfor %}
</tbody></table>
{% else %}<p>{{ t("no_failures") }}</p>{% endif %}
</section>

<section id="benchmarks">
<h2>{{ t("benchmarks") }}</h2>
{% if bench_plot %}
<p class="help">{{ t("bench_help") }}</p>
{{ bench_plot }}
{% else %}<p>{{ t("no_benchmarks") }}</p>{% endif %}
</section>

{% if errors %}
<section id="errors">
<h2>{{ t("not_graded") }}</h2>
<table><thead><tr><th>{{ t("student") }}</th><th>{{ t("submission") }}</th><th>{{ t("error") }}</th></tr></thead><tbody>
{% for s in errors %}<tr><td>{{ s.name }}</td><td><code>{{ s.submission }}</code></td><td><pre>{{ s.error }}</pre></td></tr>{% endfor %}
</tbody></table>
</section>
{% endif %}

<section id="facts">
<h2>{{ t("facts") }}</h2>
<p class="help">{{ t("facts_help") }}</p>
<dl class="facts">
<dt>{{ t("course") }}</dt><dd>{{ facts.course }}</dd>
<dt>{{ t("batch_started") }}</dt><dd>{{ facts.started }}</dd>
<dt>{{ t("batch_finished") }}</dt><dd>{{ facts.finished }}</dd>
{% if facts.runs %}<dt>{{ t("runs") }}</dt><dd>{{ facts.runs[0] }} — {{ facts.runs[1] }}</dd>{% endif %}
<dt>{{ t("batch_seed") }}</dt><dd>{% if facts.seed is not none %}{{ facts.seed }}{% else %}{{ t("seed_per_student") }}{% endif %}</dd>
<dt>{{ t("sandbox") }}</dt><dd>{% for level, n in facts.sandbox %}{{ level }} ({{ n }}){{ ", " if not loop.last }}{% endfor %}</dd>
<dt>{{ t("versions") }}</dt><dd>{% for k, vals in facts.versions.items() %}{{ k }} {% for v, n in vals %}{{ v }}{{ " (%d)" | format(n) if vals | length > 1 }}{{ " / " if not loop.last }}{% endfor %}{{ " · " if not loop.last }}{% endfor %}</dd>
</dl>
<table class="students sortable" id="student-runs">
<thead><tr><th data-key="s-name" data-first="asc">{{ t("student") }}</th><th data-key="s-status">{{ t("status") }}</th>
<th data-key="s-score" data-first="desc" class="num">{{ t("score") }}</th><th class="num">{{ t("seed") }}</th><th>{{ t("sandbox") }}</th>
<th data-key="s-duration" data-first="desc" class="num">{{ t("duration") }}</th><th>{{ t("submission") }}</th></tr></thead>
<tbody>
{% for s in students %}
<tr><td>{{ s.name }}</td><td>{{ s.status }}</td>
<td class="num" data-v="{{ '%.6f' | format(s.fraction) if s.graded else -1 }}">{% if s.graded %}{{ num(s.run.score) }} / {{ num(s.run.max_score) }}{% endif %}</td>
<td class="num">{{ s.run.seed if s.graded else "" }}</td><td>{{ s.run.sandbox.get("level", "?") if s.graded else "" }}</td>
<td class="num" data-v="{{ '%.3f' | format(s.duration) }}">{{ "%.1f s" | format(s.duration) }}</td><td><code>{{ s.submission }}</code></td></tr>
{% endfor %}
</tbody></table>
</section>
{% endblock %}
"""

_STUDENT = """{% extends "base.html" %}
{% block title %}{{ course_text }} — {{ name }}{% endblock %}
{% block kind %}student-page{% endblock %}
{% block heading %}{{ t("feedback_for") }} {{ name }}{% endblock %}
{% block content %}
<p class="course">{{ course }}</p>
{% if not graded %}
<p class="failed">{{ t("ungraded_student") }}</p>
{% else %}
<p class="total"><strong>{{ t("total") }}: {{ num(score) }} / {{ num(max_score) }}</strong> · {{ t("graded_on") }} {{ started }}</p>
{% if interrupted %}<p class="failed">{{ t("interrupted") }}</p>{% endif %}
{% for sec in sections %}
<section class="section" id="{{ sec.info.anchor }}">
<h2>{{ sec.info.id }} · {{ bi(sec.info.title, sec.info.title_zh) }} — {{ num(sec.cell.score) }} / {{ num(sec.cell.max_points) }}</h2>
{% if sec.info.url %}<p><a href="{{ sec.info.url }}" rel="noreferrer">{{ sec.info.url }}</a></p>{% endif %}
{% if sec.visible %}
<h3>{{ t("visible_tests") }}</h3>
<table class="visible-tests">
<thead><tr><th>{{ t("test") }}</th><th>{{ t("status") }}</th><th class="num">{{ t("points") }}</th><th>{{ t("message") }}</th></tr></thead>
<tbody>
{% for test in sec.visible %}
<tr><td><code>{{ test.name }}</code></td>
<td class="{{ test.status }}">{{ t("passed") if test.status == "passed" else t("failed_one") }}</td>
<td class="num">{{ num(test.points) }} / {{ num(test.max_points) }}</td>
<td>{% if test.status != "passed" %}
{% if test.category in category_text %}<div>{{ bi(*category_text[test.category]) }}</div>{% endif %}
{% if test.message %}<pre>{{ test.message_both }}</pre>{% endif %}
{% if test.likely %}<div>{{ t("likely") }}: {{ bi(test.likely, test.likely_zh) }}</div>{% endif %}
{% if test.output %}<pre class="output">{{ test.output[-2000:] }}</pre>{% endif %}
<div>{{ t("hint") }}: {{ bi(test.hint, test.hint_zh) }}</div>
{% endif %}</td></tr>
{% endfor %}
</tbody></table>
{% endif %}
{% if sec.hidden_total %}
<p class="hidden-counts">{{ t("hidden_counts", passed=sec.hidden_passed, failed=sec.hidden_failed, points=num(sec.hidden_points), max=num(sec.hidden_max)) }}</p>
{% else %}<p class="hidden-counts">{{ t("no_hidden") }}</p>{% endif %}
{% if sec.benchmarks %}
<h3>{{ t("your_throughput") }}</h3>
<table><thead><tr><th>{{ t("test") }}</th><th class="num">{{ t("student") }}</th><th class="num">{{ t("reference") }}</th>
<th class="num">{{ t("ratio") }}</th><th class="num">{{ t("threshold") }}</th></tr></thead><tbody>
{% for b in sec.benchmarks %}
<tr><td><code>{{ b.test }}</code></td><td class="num">{{ "%.1f" | format(b.student) }} {{ b.unit }}</td>
<td class="num">{{ "%.1f" | format(b.reference) }} {{ b.unit }}</td><td class="num">{{ "%.2f" | format(b.ratio) }}</td>
<td class="num">{{ "%.2f" | format(b.threshold) }}</td></tr>
{% endfor %}
</tbody></table>
{% endif %}
</section>
{% endfor %}
<p class="help">{{ t("hidden_help") }}</p>
{% endif %}
{% endblock %}
"""

TEMPLATES = {"base.html": _BASE, "class.html": _CLASS, "student.html": _STUDENT}
