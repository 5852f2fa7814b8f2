"""docs/deploy.md's costs, computed: "What it costs" for a month of views and "A bill with a
ceiling" for the worst month the kill switch allows (README.md quotes their totals).

The one typed input is the page's own table of prices and assumptions (`<!-- input: prices -->`,
with their date and source). The rest comes from the code: what a view sends (the page, the
files its templates link, one POST), the write units a view was measured to cost (the page's
generated `view-writes` block, which tests/docs/views.py measures), the function's memory and
the stage's throttle (zappa_settings.json), and the alarms, their thresholds, the web ACL's rules
and the budget (infra/template.yaml). Pure arithmetic: no engine, no network.
"""

import json
import math
import re
import textwrap
from collections import Counter
from dataclasses import dataclass

from cfnlint.decode import cfn_yaml

from tests.docs.figures import ROOT, table_parse, table_render

DEPLOY = "docs/deploy.md"
VIEWS = (1_000, 100_000)  # the cost table's columns: views a month
_INPUT = re.compile(r"<!-- input: (?P<name>[a-z-]+) -->(?P<body>.*?)<!-- /input -->", re.S)
_SCALES = {"million": 1e6, "1,000": 1e3}
KB = 1024
WIDTH = 96  # the docs' lines


# --- The typed input: prices and assumptions ---------------------------------------------------


@dataclass(frozen=True)
class Price:
    usd: float  # per unit
    free: float  # units free each month (the always-free tier)


def _input_rows(doc: str, name: str) -> list[list[str]]:
    (body,) = [m["body"] for m in _INPUT.finditer(doc) if m["name"] == name]
    return table_parse(body)


def _amount(text: str) -> float:
    """`10 million`, `1 TB` (in GB), `400,000`, `—` (nothing free)."""
    if text in ("—", "none"):
        return 0.0
    match = re.fullmatch(r"([\d,.]+)(?: (million|TB))?", text)
    assert match, f"{DEPLOY}: an amount the generator cannot read: {text!r}"
    scale = {"million": 1e6, "TB": KB, None: 1}[match[2]]
    return float(match[1].replace(",", "")) * scale


def prices(doc: str) -> dict[tuple[str, str], Price]:
    """The price table, by (service, charge): each in USD per unit (the `per` column's first
    word scales it: `million requests`, `1,000 GETs`) with its free units a month."""
    table = {}
    for service, charge, usd, per, free in _input_rows(doc, "prices"):
        scale = _SCALES.get(per.split(" ")[0], 1)
        table[(service, charge)] = Price(float(usd) / scale, _amount(free))
    return table


def assumptions(doc: str) -> dict[str, float]:
    """The assumptions table: name to number (its unit is in the name)."""
    return {name: _amount(value) for name, value, _why in _input_rows(doc, "assumptions")}


# --- What the code decides ---------------------------------------------------------------------


def page_static_files() -> list[str]:
    """The static files the resume page links, through the templates it extends."""
    files, template = [], "resume/resume.html"
    while template:
        text = (ROOT / "templates" / template).read_text()
        files += re.findall(r"{% static '([^']+)' %}", text)
        parent = re.search(r'{% extends "([^"]+)" %}', text)
        template = parent and parent[1]
    return files


def zappa_stage(stage: str = "prod") -> dict:
    """The stage's Zappa settings, its `extends` chain merged."""
    settings = json.loads((ROOT / "zappa_settings.json").read_text())
    chain = [settings[stage]]
    while "extends" in chain[-1]:
        chain.append(settings[chain[-1]["extends"]])
    merged: dict = {}
    for each in reversed(chain):
        merged |= each
    return merged


@dataclass(frozen=True)
class Stack:
    kill_switch: dict[str, float]  # MetricName -> hourly threshold, in the metric's unit
    alarm_metrics: int
    custom_metrics: int
    waf_rules: int
    budget_usd: float


def stack() -> Stack:
    template = cfn_yaml.load(str(ROOT / "infra" / "template.yaml"))
    parameters = {name: p.get("Default") for name, p in template["Parameters"].items()}
    resources = Counter()
    kill_switch = {}
    for resource in template["Resources"].values():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::CloudWatch::Alarm":
            metrics = properties.get("Metrics")
            resources["alarm metrics"] += sum("MetricStat" in m for m in metrics) if metrics else 1
            if {"Ref": "KillSwitchTopic"} in properties["AlarmActions"]:
                # The hourly sum past which the switch acts: `!Ref P` or `!Sub "${P}000"`.
                assert properties["Period"] == 3600, "the kill switch's alarms are hourly"
                assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
                threshold = properties["Threshold"]
                if "Ref" in threshold:
                    value = parameters[threshold["Ref"]]
                else:
                    value = re.sub(
                        r"\$\{(\w+)\}", lambda m: str(parameters[m[1]]), threshold["Fn::Sub"]
                    )
                kill_switch[properties["MetricName"]] = float(value)
        elif kind == "AWS::Logs::MetricFilter":
            resources["custom metrics"] += len(properties["MetricTransformations"])
        elif kind == "AWS::WAFv2::WebACL":
            resources["waf rules"] += len(properties["Rules"])
    assert set(kill_switch) == {"Count", "Duration", "ConsumedWriteCapacityUnits"}, (
        f"the kill switch's alarms changed ({sorted(kill_switch)}): teach the generator"
    )
    return Stack(
        kill_switch,
        resources["alarm metrics"],
        resources["custom metrics"],
        resources["waf rules"],
        float(parameters["MonthlyBudgetUsd"]),
    )


def view_write_units(doc: str) -> float:
    """A new visitor's view's write units, from the page's generated (measured) block."""
    (units,) = re.findall(
        r"<!-- generated: view-writes -->([\d.]+) write units for a new visitor's view", doc
    )
    return float(units)


# --- A month ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    prices: dict[tuple[str, str], Price]
    assumed: dict[str, float]
    stack: Stack
    static_files: int
    page_kb: float  # the page and its files, as the edge sends them (uncompressed: at most)
    memory_gb: float  # as Lambda bills it: MB / 1024
    throttle: float  # the stage's steady requests a second
    write_units: float  # a new visitor's view


def inputs(page_bytes: int) -> Inputs:
    doc = (ROOT / DEPLOY).read_text()
    files = page_static_files()
    sizes = page_bytes + sum((ROOT / "static" / f).stat().st_size for f in files)
    zappa = zappa_stage()
    return Inputs(
        prices(doc),
        assumptions(doc),
        stack(),
        len(files),
        sizes / KB,
        zappa["memory_size"] / KB,
        float(zappa["stage_throttling"]["rate_limit"]),
        view_write_units(doc),
    )


CLOUDFRONT_REQUESTS = ("CloudFront", "HTTPS requests")
CLOUDFRONT_OUT = ("CloudFront", "data out")
API_REQUESTS = ("API Gateway (REST, regional)", "requests")
LAMBDA_REQUESTS = ("Lambda", "requests")
LAMBDA_COMPUTE = ("Lambda", "compute")
WRITES = ("DynamoDB on demand", "write units")
READS = ("DynamoDB on demand", "read units")
S3_GETS = ("S3", "GETs")
ALARMS = ("CloudWatch", "alarm metrics")
CUSTOM = ("CloudWatch", "custom metrics")
ZONE = ("Route 53", "hosted zone")


def month(i: Inputs, views: int) -> Counter:
    """A month's usage, by (service, charge): every view a new visitor's (the page and its
    files from the edge, one POST through to the function and the table), and the page's
    misses at the edge, which reach the function too (and make the edge ask S3 for the files)."""
    misses = i.assumed["page misses at the edge a month"]
    api = views + misses
    return Counter(
        {
            CLOUDFRONT_REQUESTS: views * (1 + i.static_files + 1),
            CLOUDFRONT_OUT: views * i.page_kb / KB / KB,
            API_REQUESTS: api,
            LAMBDA_REQUESTS: api,
            LAMBDA_COMPUTE: api * i.assumed["a request's billed time, ms"] / 1000 * i.memory_gb,
            WRITES: views * i.write_units,
            S3_GETS: misses * i.static_files,
            ALARMS: i.stack.alarm_metrics,
            CUSTOM: i.stack.custom_metrics,
            ZONE: 1,
        }
    )


def bill(i: Inputs, usage: Counter, *, free: bool = True) -> dict[tuple[str, str], float]:
    """Each charge of the usage in USD, past the always-free tier unless `free` is False."""
    return {
        key: max(0.0, used - (i.prices[key].free if free else 0)) * i.prices[key].usd
        for key, used in usage.items()
    }


def usd(value: float) -> str:
    return f"{value:.2f}"


def count(value: float) -> str:
    """1,500 as `1.5 k`, 2,300,000 as `2.3 million`."""
    if value >= 1e6:
        return f"{value / 1e6:.3g} million"
    if value >= 1e3:
        return f"{value / 1e3:,.1f}".removesuffix(".0") + " k"
    return f"{value:,.0f}"


# --- "What it costs" ---------------------------------------------------------------------------


def cost_table(i: Inputs) -> str:
    """One row per service, one column per month of VIEWS; each cell its USD (to the cent) and
    what was counted; each total the sum of the cells above it as written."""
    rows: dict[str, list[str]] = {}
    totals, route53 = [], 0.0
    for views in VIEWS:
        used = month(i, views)
        paid, unfree = bill(i, used), bill(i, used, free=False)

        def cell(*keys, note: str, paid=paid) -> tuple[float, str]:
            cents = round(sum(paid[k] for k in keys), 2)
            return cents, f"{usd(cents)} ({note})"

        lambda_unfree = unfree[LAMBDA_REQUESTS] + unfree[LAMBDA_COMPUTE]
        cells = {
            "CloudFront": cell(
                CLOUDFRONT_REQUESTS,
                CLOUDFRONT_OUT,
                note=f"{count(used[CLOUDFRONT_REQUESTS])} requests, {used[CLOUDFRONT_OUT]:.2g} GB",
            ),
            "API Gateway (REST, regional)": cell(
                API_REQUESTS, note=f"{count(used[API_REQUESTS])} requests"
            ),
            "Lambda": cell(
                LAMBDA_REQUESTS,
                LAMBDA_COMPUTE,
                note=f"{count(used[LAMBDA_REQUESTS])} requests, "
                f"{used[LAMBDA_COMPUTE]:,.0f} GB-s; {usd(lambda_unfree)} without the free tier",
            ),
            "DynamoDB on demand": cell(WRITES, note=f"{count(used[WRITES])} write units"),
            "S3": cell(S3_GETS, note=f"{count(used[S3_GETS])} GETs"),
            "CloudWatch alarms and metrics": cell(
                ALARMS,
                CUSTOM,
                note=f"{i.stack.alarm_metrics} alarm metrics, {i.stack.custom_metrics} custom",
            ),
            "Route 53 (only with `RESUME_SITE_HOSTED_ZONE`)": cell(ZONE, note="one zone"),
        }
        for service, (_, text) in cells.items():
            rows.setdefault(service, []).append(text)
        total = sum(cents for cents, _ in cells.values())
        route53 = cells["Route 53 (only with `RESUME_SITE_HOSTED_ZONE`)"][0]
        totals.append(f"**{usd(total)} USD** ({usd(total - route53)} without Route 53)")
        inspected = used[CLOUDFRONT_REQUESTS]  # the web ACL is the distribution's: every request
        waf = (
            i.prices[("AWS WAF", "web ACL")].usd
            + i.stack.waf_rules * i.prices[("AWS WAF", "rules")].usd
            + inspected * i.prices[("AWS WAF", "requests")].usd
        )
        rows.setdefault("AWS WAF (`EnableWaf`, off)", []).append(
            f"+ {usd(waf)} ({i.stack.waf_rules} rules, {count(inspected)} requests)"
        )
    waf_row = rows.pop("AWS WAF (`EnableWaf`, off)")
    body = [[service, *cells] for service, cells in rows.items()]
    body += [["**total**", *totals], ["AWS WAF (`EnableWaf`, off)", *waf_row]]
    return table_render(
        ["service", *(f"{views:,} views / month" for views in VIEWS)],
        body,
        align="|---|" + "---:|" * len(VIEWS),
    )


def bill_quoted(i: Inputs) -> str:
    """README.md's sentence on the bill: the cost table's totals and the worst month's."""
    (total_row,) = [row for row in table_parse(cost_table(i)) if row[0] == "**total**"]
    amounts = [re.match(r"\*\*([\d.]+) USD", cell)[1] for cell in total_row[1:]]
    at = ", ".join(f"{a} USD at {v:,} views" for a, v in zip(amounts, VIEWS, strict=True))
    sentence = (
        f'monthly bill (about {at}) and "A bill with a ceiling" the worst case a flood can cost '
        f"with the kill switch (about {usd(worst(i)['total'])} USD a month)"
    )
    return "\n" + textwrap.fill(sentence, WIDTH)


# --- "A bill with a ceiling" -------------------------------------------------------------------


def worst(i: Inputs) -> dict:
    """The worst month the kill switch allows: every hourly sum its alarms watch held just
    under their thresholds for every hour of the longest month (the alarms count the site's own
    requests and writes too), each request reading the day's item at its largest, with the
    page's own traffic at the smallest column of VIEWS and Route 53."""
    hours = i.assumed["hours in the longest month"]
    alarm = i.stack.kill_switch
    requests = alarm["Count"] * hours
    seconds = alarm["Duration"] / 1000 * hours
    units_per_read = math.ceil(i.assumed["the day's item at its largest, KB"] / 4)
    used = month(i, VIEWS[0])
    used[API_REQUESTS] = used[LAMBDA_REQUESTS] = requests
    used[LAMBDA_COMPUTE] = seconds * i.memory_gb
    used[WRITES] = alarm["ConsumedWriteCapacityUnits"] * hours
    used[READS] = requests * units_per_read
    used[CLOUDFRONT_REQUESTS] += requests
    paid, unfree = bill(i, used), bill(i, used, free=False)
    lambda_keys = (LAMBDA_REQUESTS, LAMBDA_COMPUTE)
    flood = i.throttle * 60 * i.assumed["minutes before the kill switch acts"]
    return {
        "used": used,
        "paid": paid,
        "unfree": unfree,
        "hours": hours,
        "units_per_read": units_per_read,
        "total": sum(paid.values()),
        "total unfree lambda": sum(paid.values()) + sum(unfree[k] - paid[k] for k in lambda_keys),
        "flood requests": flood,
        "flood usd": flood
        * (
            i.prices[API_REQUESTS].usd
            + i.prices[LAMBDA_REQUESTS].usd
            + i.write_units * i.prices[WRITES].usd
        ),
    }


def ceiling(i: Inputs) -> str:
    w = worst(i)
    used, paid, unfree = w["used"], w["paid"], w["unfree"]
    alarm, hours = i.stack.kill_switch, w["hours"]
    api, lam = i.prices[API_REQUESTS], i.prices[LAMBDA_REQUESTS]
    lambda_requests = (
        f"Lambda's requests {usd(paid[LAMBDA_REQUESTS])} USD"
        if paid[LAMBDA_REQUESTS]
        else f"Lambda's requests inside its free {count(lam.free)} "
        f"({usd(unfree[LAMBDA_REQUESTS])} USD without it)"
    )
    compute = (
        f"{usd(paid[LAMBDA_COMPUTE])} USD"
        if paid[LAMBDA_COMPUTE]
        else f"inside Lambda's free {i.prices[LAMBDA_COMPUTE].free:,.0f} "
        f"({usd(unfree[LAMBDA_COMPUTE])} USD without it)"
    )
    cloudfront = (
        "stay inside its free"
        if used[CLOUDFRONT_REQUESTS] <= i.prices[CLOUDFRONT_REQUESTS].free
        else "pass its free"
    )
    budget = i.stack.budget_usd
    under = "Under" if w["total"] < budget else "**Over**"
    flood_minutes = i.assumed["minutes before the kill switch acts"]
    bullets = [
        f"- *Requests held just under the hourly alarm all month*: fewer than "
        f"{alarm['Count']:,.0f} an hour for {hours:,.0f} hours is under "
        f"{used[API_REQUESTS]:,.0f} requests: API Gateway at {api.usd * 1e6:.2f} USD per "
        f"million, about **{usd(paid[API_REQUESTS])} USD**; {lambda_requests}.",
        f"- *The table's writes held just under theirs*: under "
        f"{alarm['ConsumedWriteCapacityUnits']:,.0f} units an hour is under "
        f"{count(used[WRITES])} units at {i.prices[WRITES].usd * 1e6:g} USD per million, about "
        f"**{usd(paid[WRITES])} USD**, whatever size the items grow to; the reads that go with "
        f"them (at most the day's item per request, {w['units_per_read']} read units at its "
        f"largest) about {usd(paid[READS])} USD more.",
        f"- *The function's time held just under its alarm*: under "
        f"{alarm['Duration'] / 1000:,.0f} s an hour at {i.memory_gb * KB:,.0f} MB is under "
        f"{used[LAMBDA_COMPUTE]:,.0f} GB-s a month, {compute}. CloudFront's requests for the "
        f"API and the page {cloudfront} {count(i.prices[CLOUDFRONT_REQUESTS].free)}.",
        f"- *Together, with the page's own costs at {VIEWS[0]:,} views, its alarms and Route "
        f"53*: **about {usd(w['total'])} USD** ({usd(w['total unfree lambda'])} USD without "
        f"Lambda's free tier). {under} the {budget:,.0f} USD the budget e-mails at.",
        "- *A flood over any threshold* trips its alarm within minutes (a one-hour alarm is "
        "evaluated every minute, and the metrics arrive a minute or two late: an assumption "
        "from CloudWatch's documentation, not measured here). At the throttle's "
        f"{i.throttle:g} requests a second, {flood_minutes:g} minutes is "
        f"{w['flood requests']:,.0f} requests, about {usd(w['flood usd'])} USD with their "
        "writes, each time the owner turns the API back on into a flood that goes on.",
    ]
    wrapped = (textwrap.fill(b, WIDTH, subsequent_indent="  ") for b in bullets)
    return "\n" + "\n".join(wrapped) + "\n"


def throttle_month(i: Inputs) -> str:
    """What the stage's throttle alone lets through in the longest month, before DynamoDB."""
    requests = i.throttle * 3600 * i.assumed["hours in the longest month"]
    used = Counter(
        {
            API_REQUESTS: requests,
            LAMBDA_REQUESTS: requests,
            LAMBDA_COMPUTE: requests
            * i.assumed["a request's billed time, ms"]
            / 1000
            * i.memory_gb,
        }
    )
    paid = sum(bill(i, used).values())
    return (
        f"at {i.throttle:g} requests a second all month,\n{count(requests)} requests reach the "
        f"function, about {paid:,.0f} USD before DynamoDB."
    )


def page_flood(i: Inputs) -> str:
    """A month of the cached page alone at the assumed flood's rate: CloudFront's requests."""
    rate = i.assumed["a page flood's requests a second"]
    requests = rate * 3600 * i.assumed["hours in the longest month"]
    paid = bill(i, Counter({CLOUDFRONT_REQUESTS: requests}))[CLOUDFRONT_REQUESTS]
    return (
        f"A flood of the page at {rate:g} requests a\nsecond would cost about {paid:,.0f} USD "
        "a month"
    )


S3_PUTS = ("S3", "PUTs")
# A busy month's pushes to `main`, and the worst case's runs (docs/deploy.md, after the block).
DEPLOYS = (100, 9_000)


def deploy_requests(doc: str, calls: Counter) -> str:
    """The S3 requests of a deploy from a fresh checkout, as recorded (`calls`: operation ->
    count, collectstatic's, tests/deploy/test_static_files.py), and what they cost a deploy and a
    month of deploys. A HEAD is billed as a GET, a DELETE is free; Zappa uploads the package with
    one PUT of its own unless `PACKAGE=` names a zip."""
    table = prices(doc)
    puts, heads = calls["PutObject"] + 1, calls["HeadObject"] + calls["GetObject"]
    one = puts * table[S3_PUTS].usd + heads * table[S3_GETS].usd
    busy, worst = (one * deploys for deploys in DEPLOYS)
    text = (
        f"S3 requests: {calls['PutObject']} PUTs and {heads} HEADs and GETs (collectstatic "
        "uploads every static file and its hashed copy again: a fresh checkout's files, as CI "
        "has them, are all newer than the bucket's), and one PUT of the package (none with "
        f"`PACKAGE=`): about {one:.2g} USD a deploy, {busy:.2g} USD for {DEPLOYS[0]} pushes to "
        f"`main` in a month, {worst:.2g} USD for the {DEPLOYS[1]:,} runs of the worst case below"
    )
    return "\n" + textwrap.fill(text, WIDTH) + "\n"
