"""Writes the register fixtures of the tests: saved pages of a BE&OE-style `list-of-oeps` table, the same
agencies as CSV, a later snapshot, and notices. Every firm, person, address and phone number here is
fictitious (the names carry "Example", "Test", "Sample", "Demo" or "Dummy"; phones are 0000 numbers).

    .venv/bin/python tests/data/register/make_fixtures.py   (the outputs are committed)
"""
from __future__ import annotations

import csv
import html
from pathlib import Path

HERE = Path(__file__).resolve().parent

# licence, proprietor, title, status, expiry (dd-mm-yyyy), head office lines, branches
FIRMS = [
    ("0008/RWP", "Muhammad Example Khan", "Example Test Overseas Employment Promoters", "Active", "12-05-2027"),
    ("0017/RWP", "Ayesha Sample", "M/s Example Hunza Peak Manpower Services", "Active", "30-06-2027"),
    ("0023/LHR", "Bilal Demo", "Sample Crescent Star Overseas Employment Promoters", "Active", "01-02-2027"),
    ("0031/KHI", "Danish Test", "Demo Sea Breeze Travel & Tours (Pvt) Ltd", "Expired", "15-08-2025"),
    ("0044/PSH", "Farah Example", "Example Khyber Gate International", "Suspended", "20-11-2027"),
    ("0052/QTA", "Ghulam Dummy", "Dummy Bolan Valley Manpower (Private) Limited", "Canceled", ""),
    ("0066/RWP", "Hina Sample", "Sample Karakoram Gateway Overseas Employment Promoters", "Active", "09-09-2027"),
    ("0071/LHR", "Imran Example", "Example Al-Noor Recruiting Agency", "Active", "28-02-2027"),
    ("0085/LHR", "Javeria Test", "Test Ravi Bridge Employment Services", "Surrendered", ""),
    ("0090/KHI", "Kamran Demo", "Demo Clifton Pearl Manpower", "Active", "31-12-2026"),
    ("0104/RWP", "Laila Dummy", "Dummy Nanga Parbat Overseas", "Active", "14-04-2028"),
    ("0112/MALAKAND", "Mehmood Example", "Example Swat Valley Overseas Employment Promoters", "Active", "05-10-2027"),
    ("0127/MULTAN", "Nadia Sample", "Sample Mango City Manpower Services", "Expired", "01-03-2026"),
    ("0133/SIALKOT", "Omar Test", "Test Sialkot Sports Overseas Employment Promoters", "Active", "17-07-2027"),
    ("0148/PSH", "Parveen Demo", "Demo Shandur Polo International (Pvt.) Ltd.", "Active", "22-01-2028"),
    ("0156/LHR", "Qasim Example", "Example Shalimar Garden Travel & Tours", "Invalid", ""),
    ("0169/RWP", "Rabia Dummy", "Dummy Deosai Plains Manpower Services", "Active", "11-11-2027"),
    ("0175/KHI", "Saad Sample", "Sample Indus Delta Overseas Employment Promoters", "Active", "03-03-2027"),
    ("0188/LHR", "Tahira Test", "Test Badshahi Manpower Consultants", "Canceled", ""),
    ("0193/RWP", "Usman Demo", "Demo Rawal Lake Overseas Employment Promoters", "Active", "19-06-2027"),
    ("0207/QTA", "Wajiha Example", "Example Ziarat Juniper International", "Active", "25-12-2027"),
    ("0214/MULTAN", "Yasir Sample", "Sample Shah Rukn-e-Alam Manpower", "Active", "30-04-2027"),
    ("0226/LHR", "Zainab Dummy", "Dummy Madina Barkat Overseas Employment Promoters", "Active", "08-08-2027"),
    ("0231/RWP", "Adeel Test", "Test Rehman Brothers Manpower (Pvt) Ltd", "Active", "12-12-2027"),
    ("0245/KHI", "Bushra Demo", "Demo Falcon Wings Travel & Tours", "Suspended", "01-06-2027"),
    ("0258/PSH", "Chaudhry Example", "Example Shaheen Overseas Employment Promoters", "Active", "15-05-2027"),
    ("0262/LHR", "Dua Sample", "Sample Noor-e-Sahar International", "Active", "10-10-2027"),
    ("0279/RWP", "Ehsan Dummy", "Dummy Baltoro Glacier Manpower Services", "Expired", "31-01-2026"),
    ("0283/SIALKOT", "Fauzia Test", "Test Chenab River Overseas Employment Promoters", "Active", "02-02-2028"),
    ("0296/KHI", "Gul Demo", "Demo Sitara Recruitment Services", "Active", "29-09-2027"),
    ("0301/RWP", "Haris Example", "Example Passu Cones Overseas", "Active", "16-04-2027"),
    ("0318/LHR", "Iqra Sample", "Sample Barakat Manpower (Private) Limited", "Active", "21-07-2027"),
    ("0324/QTA", "Junaid Dummy", "Dummy Chiltan Hills Overseas Employment Promoters", "Canceled", ""),
    ("0337/RWP", "Kiran Test", "Test Golden Eagle International", "Active", "13-03-2027"),
    ("0342/LHR", "Luqman Demo", "Demo Data Darbar Manpower Services", "Active", "07-07-2027"),
    ("0359/PSH", "Maryam Example", "Example Tirah Valley Travel & Tours", "Active", "18-08-2027"),
    ("0363/KHI", "Nabeel Sample", "Sample Mehran Overseas Employment Promoters", "Active", "26-02-2027"),
    ("0378/RWP", "Owais Dummy", "Dummy Margalla Heights Manpower", "Active", "04-04-2028"),
    ("0381/LHR", "Pari Test", "Test Anarkali Overseas Employment Promoters", "Expired", "12-09-2025"),
    ("0395/MULTAN", "Qurat Demo", "Demo Multan Sultans International", "Active", "09-01-2028"),
    ("0402/RWP", "Rizwan Example", "Example Gilgit Star Overseas Employment Promoters", "Active", "23-05-2027"),
    ("0416/KHI", "Sana Sample", "Sample Karachi Port Manpower Services", "Active", "14-02-2027"),
    ("0421/LHR", "Tariq Dummy", "Dummy Minar-e-Pakistan Overseas", "Active", "30-10-2027"),
    ("0437/PSH", "Umaima Test", "Test Peshawar Qissa Khwani Manpower", "Active", "11-06-2027"),
    ("0443/RWP", "Waqar Demo", "Demo Attock Bridge Overseas Employment Promoters", "Surrendered", ""),
    ("0458/LHR", "Yumna Example", "Example Lahore Fort Travel & Tours (Pvt) Ltd", "Active", "20-03-2027"),
    ("0462/KHI", "Zeeshan Sample", "Sample Hawks Bay Overseas Employment Promoters", "Active", "01-01-2028"),
    ("0479/RWP", "Asma Dummy", "Dummy Taxila Heritage Manpower Services", "Active", "27-07-2027"),
    ("0481/LHR", "Babar Test", "Test Al-Hamd Enterprises", "Active", "05-05-2027"),
    ("0496/RWP", "Dania Demo", "Demo Al-Hamd Manpower Services", "Active", "06-06-2027"),
    ("0503/PSH", "Faisal Example", "Example Hunza Peak Travel & Tours", "Active", "18-12-2027"),
    ("0517/KHI", "Hamza Sample", "Sample Crescent Moon Manpower", "Active", "24-04-2027"),
    ("0522/LHR", "Iram Dummy", "Dummy Sadiq Overseas Employment Promoters", "Active", "09-08-2027"),
    ("0538/RWP", "Jamil Test", "Test Sadiq Brothers International", "Active", "15-11-2027"),
    ("0544/QTA", "Kashif Demo", "Demo Quetta Valley Overseas Employment Promoters", "Expired", "28-02-2026"),
    ("0559/LHR", "Lubna Example", "Example Jinnah Garden Manpower Services", "Active", "03-09-2027"),
    ("0563/RWP", "Moin Sample", "Sample Khunjerab Pass Overseas Employment Promoters", "Active", "10-02-2028"),
    ("0578/KHI", "Nida Dummy", "Dummy Sindh Star Travel & Tours", "Canceled", ""),
    ("0584/LHR", "Osama Test", "Test Faisal Mosque Overseas Employment Promoters", "Active", "19-10-2027"),
    ("0597/RWP", "Rubina Demo", "Demo Rakaposhi View International", "Active", "08-03-2027"),
    ("0008/LHR", "Saima Example", "Example Walled City Manpower", "Active", "29-05-2027"),
]
BRANCHES = {"0008/RWP": ["Office 12, Example Arcade, Blue Area, Islamabad", "Ph: 051-0000012"],
            "0023/LHR": ["Shop 3, Example Centre, Gulberg, Lahore", "Shop 9, Test Market, Multan"],
            "0104/RWP": ["Example House, Jutial, Gilgit. Ph: 05811-000000"]}
PER_PAGE = 25
REGISTER_DATE = "2026-11-30"


def city_of(number: str) -> str:
    return {"RWP": "Rawalpindi", "LHR": "Lahore", "KHI": "Karachi", "PSH": "Peshawar", "QTA": "Quetta",
            "MALAKAND": "Mingora, Swat", "MULTAN": "Multan", "SIALKOT": "Sialkot"}.get(number.partition("/")[2], "Rawalpindi")


def head_office(index: int, number: str) -> list[str]:
    return [f"Office No. {index + 1}, {['First', 'Second', 'Ground'][index % 3]} Floor, Example Plaza,",
            f"Test Road, {city_of(number)}", f"Ph: 0{index % 9 + 1}1-000{index:04d}", f"Cell: 0300-000{index:04d}"]


def licence_cell(number: str, index: int) -> str:
    if "/" not in number:
        return number
    digits, region = number.split("/")
    # the real table pads with spaces and non-breaking spaces around the slash, unevenly
    return [f"{digits}&nbsp; / {region}", f"{digits}  / {region}", f"\n      {digits} /{region}\n    "][index % 3]


STATUS_BADGE = {"Active": "success", "Expired": "warning", "Suspended": "danger", "Canceled": "danger",
                "Surrendered": "secondary", "Invalid": "dark"}


def page(rows: list[tuple[int, tuple]], number: int, pages: int, show: str = "all") -> str:
    out = [f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>List of OEPs | Bureau of Emigration &amp; Overseas Employment</title>
<link rel="stylesheet" href="/css/bootstrap.min.css"></head>
<body><div class="container-fluid"><div class="row"><div class="col-md-12">
<h3 class="page-title">List of OEP's</h3>
<form method="get" action="list-of-oeps"><select name="show">
<option value="active">Active</option><option value="all" selected>All</option></select>
<input type="text" name="search" value=""><button type="submit">Search</button></form>
<div class="table-responsive">
<table class="table table-bordered table-striped table-hover" id="oep-list">
  <thead>
    <tr>
      <th>Licence No.</th><th>Proprietor Name</th><th>Licence Title</th><th>Status</th>
      <th>Expiry Date</th><th>Head Office</th><th>Branch Office(s)</th>
    </tr>
  </thead>
  <tbody>"""]
    for index, (number_, proprietor, title, status, expiry) in rows:
        office = "<br>\n          ".join(html.escape(line) for line in head_office(index, number_))
        branches = BRANCHES.get(number_)
        branch_cell = ("<ul>" + "".join(f"<li>{html.escape(b)}</li>" for b in branches) + "</ul>") if branches else \
            ["-", "", "&nbsp;"][index % 3]
        title_cell = html.escape(title) if index % 4 else f"<strong> {html.escape(title)} </strong>"
        if index % 7 == 3:
            title_cell = title_cell.replace(" ", "\n        ", 1)  # a line break inside the name
        expiry_cell = expiry or ["", "-", "N/A"][index % 3]
        out.append(f"""
    <tr class="{'odd' if index % 2 else 'even'}">
      <td class="text-nowrap">{licence_cell(number_, index)}</td>
      <td>  {html.escape(proprietor)} </td>
      <td>{title_cell}</td>
      <td><span class="badge badge-{STATUS_BADGE.get(status, "light")}">{status}</span></td>
      <td>{expiry_cell}</td>
      <td>{office}</td>
      <td>{branch_cell}</td>
    </tr>""")
    out.append("\n  </tbody>\n</table>\n</div>\n<ul class=\"pagination\">")
    for p in range(1, pages + 1):
        active = ' class="active"' if p == number else ""
        out.append(f'<li{active}><a href="list-of-oeps?show={show}&amp;page={p}">{p}</a></li>')
    out.append("</ul>\n</div></div></div>\n<footer>Bureau of Emigration &amp; Overseas Employment</footer>\n</body></html>\n")
    return "".join(out)


def write() -> None:
    indexed = list(enumerate(FIRMS))
    pages = [indexed[i:i + PER_PAGE] for i in range(0, len(indexed), PER_PAGE)]
    for number, rows in enumerate(pages, start=1):
        (HERE / f"list-of-oeps-page{number}.html").write_text(page(rows, number, len(pages)), encoding="utf-8")
    with open(HERE / "register.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Licence No.", "Proprietor Name", "Licence Title", "Status", "Expiry Date", "Head Office",
                         "Branch Office(s)"])
        for index, (number_, proprietor, title, status, expiry) in indexed:
            digits, region = number_.split("/")
            writer.writerow([f"{digits} / {region}", proprietor, title, status, expiry,
                             "\n".join(head_office(index, number_)), "\n".join(BRANCHES.get(number_, []))])
    # a later snapshot: one firm new, one gone, a status changed, an expiry moved
    later = [list(f) for f in FIRMS if f[0] != "0597/RWP"]
    for firm in later:
        if firm[0] == "0090/KHI":
            firm[3] = "Expired"
        if firm[0] == "0017/RWP":
            firm[4] = "30-06-2029"
    later.append(["0611/LHR", "Tanveer Sample", "Sample New Horizon Overseas Employment Promoters", "Active",
                  "01-12-2028"])
    (HERE / "later-page1.html").write_text(page([(i, tuple(f)) for i, f in enumerate(later)], 1, 1), encoding="utf-8")
    # a broken page: a row with a bad licence number, one with an unknown status, one with a bad date
    broken = [(0, FIRMS[0]), (1, ("12AB", "X Test", "Test Broken Row One", "Active", "01-01-2027")),
              (2, ("0999/RWP", "Y Test", "Test Broken Row Two", "Pending", "01-01-2027")),
              (3, ("0998/RWP", "Z Test", "Test Broken Row Three", "Active", "31-31-2027"))]
    (HERE / "broken-page.html").write_text(page(broken, 1, 1), encoding="utf-8")
    with open(HERE / "notices.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["title", "date", "body"])
        writer.writerow(["Show Cause Notice to M/s Example Test Overseas Employment Promoters (OEPL No. 0008/RWP)",
                         "02-12-2026", "The OEP is asked to explain complaints received from emigrants."])
        writer.writerow(["Blacklisting of M/s Sample Mango City Manpower Services (OEP No.0127/Multan)", "03-12-2026",
                         "The licence holder and the proprietor are blacklisted."])
        writer.writerow(["Suspension of licence of M/s Dummy Deosai Plains Manpower Services", "04-12-2026",
                         "The licence is suspended until further orders."])
        writer.writerow(["Warning to M/s Unknown Example Visa Consultants", "04-12-2026",
                         "A firm that is not a licensed OEP."])


if __name__ == "__main__":
    write()
