"""The programme's code lists (reports spec §1.5, §4.1), one place for forms, roster and reports.

Each list maps a stable machine code to its Vietnamese and English labels. Spreadsheets that
departments keep use the Vietnamese labels, so :func:`lookup` accepts a code or either label,
ignoring case and Vietnamese accents ("Viên chức" = "vien chuc" = "vien_chuc").
"""

from __future__ import annotations

import functools
import unicodedata

Labels = dict[str, tuple[str, str]]

LEVELS: Labels = {
    "province": ("Tuyến tỉnh", "Province level"),
    "district": ("Tuyến huyện", "District level"),
    "commune": ("Tuyến xã", "Commune level"),
    "village": ("Thôn, tổ dân phố (CTV)", "Hamlet level (collaborator)"),
}
EMPLOYMENT: Labels = {
    "cong_chuc": ("Công chức", "Civil servant"),
    "vien_chuc": ("Viên chức", "Public employee"),
    "hop_dong": ("Hợp đồng", "Contract"),
    "ctv": ("Cộng tác viên", "Collaborator"),
}
STAFF_CATEGORIES: Labels = {
    "bcd_member": ("Thành viên Ban Chỉ đạo DS-KHHGĐ", "Steering committee member"),
    "leader_health": ("Lãnh đạo, quản lý đơn vị y tế – dân số", "Health/population manager"),
    "cc_prov": ("Công chức Chi cục DS-KHHGĐ", "Provincial PFP civil servant"),
    "vc_district": ("Viên chức Phòng Dân số (TTYT)", "District population officer"),
    "vc_commune": ("Viên chức dân số xã (CBCT)", "Commune population officer"),
    "station_head": ("Trưởng Trạm Y tế", "Health station head"),
    "fp_provider": ("NVYT cung cấp dịch vụ KHHGĐ/SKSS", "FP/RH service provider"),
    "rh_dept": ("Khoa SKSS (TTYT)", "RH department staff"),
    "village_hw": ("Nhân viên y tế thôn, bản", "Village health worker"),
    "ctv": ("Cộng tác viên dân số", "Population collaborator"),
    "ctv_dual": ("CTV dân số kiêm gia đình, trẻ em", "Dual-role collaborator"),
    "volunteer_elderly": ("Tình nguyện viên chăm sóc người cao tuổi", "Elderly-care volunteer"),
    "trainer": ("Giảng viên, báo cáo viên", "Trainer / rapporteur"),
    "stat_it": ("Thống kê, CNTT, quản trị kho dữ liệu", "Statistics / IT / data officer"),
    "other": ("Khác", "Other"),
}
LEADERSHIP: Labels = {
    "head": ("Trưởng", "Head"),
    "deputy": ("Phó", "Deputy"),
}
EDUCATION: Labels = {
    "postgrad": ("Trên đại học", "Postgraduate"),
    "university": ("Đại học", "University"),
    "college": ("Cao đẳng", "College"),
    "intermediate": ("Trung cấp", "Intermediate vocational"),
    "elementary": ("Sơ cấp", "Elementary vocational"),
    "upper_sec": ("Trung học phổ thông", "Upper secondary"),
    "lower_sec": ("Trung học cơ sở trở xuống", "Lower secondary or less"),
}
EDUCATION_FIELDS: Labels = {
    "medpharm": ("Y – dược", "Medicine–pharmacy"),
    "other": ("Ngành khác", "Other field"),
}
CERTIFICATES: Labels = {
    "vc_std": (
        "Chứng chỉ bồi dưỡng đạt chuẩn viên chức dân số",
        "Population public-employee standard certificate",
    ),
    "cdnn_iv": ("Chứng chỉ CDNN dân số viên hạng IV", "Professional-title certificate, grade IV"),
    "cdnn_iii": (
        "Chứng chỉ CDNN dân số viên hạng III",
        "Professional-title certificate, grade III",
    ),
    "cdnn_ii": ("Chứng chỉ CDNN dân số viên hạng II", "Professional-title certificate, grade II"),
    "tc_ytds": ("Bằng trung cấp Y tế Dân số", "Intermediate diploma, population health"),
    "basic_2m": ("Lớp dân số cơ bản / nghiệp vụ 2 tháng", "2-month basic population course"),
    "course_3m": ("Lớp 3 tháng", "3-month course"),
    "tot_prov": ("Lớp giảng viên tuyến tỉnh", "Provincial trainer course"),
}
CTV_ROLES: Labels = {
    "pop": ("Dân số", "Population"),
    "family": ("Gia đình", "Family"),
    "child": ("Trẻ em", "Children"),
    "vhw": ("Y tế thôn bản", "Village health"),
}
SEXES: Labels = {"m": ("Nam", "Male"), "f": ("Nữ", "Female")}
COURSE_TYPES: Labels = {
    "dao_tao": ("Đào tạo", "Degree training"),
    "boi_duong": ("Bồi dưỡng", "Refresher / certificate course"),
    "tap_huan": ("Tập huấn", "Workshop"),
}
TOPICS = tuple(f"TP{n:02d}" for n in range(1, 18))
#: The topic(s) that train each competency of the TNA item bank (reports spec §1.8).
COMPETENCY_TOPICS: dict[str, tuple[str, ...]] = {
    "C01": ("TP03",), "C02": ("TP03", "TP15"), "C03": ("TP03",), "C04": ("TP05",),
    "C05": ("TP05",), "C06": ("TP13",), "C07": ("TP13",), "C08": ("TP04",), "C09": ("TP08",),
    "C10": ("TP07",), "C11": ("TP09",), "C12": ("TP10",), "C13": ("TP11",), "C14": ("TP12",),
    "C15": ("TP06",), "C16": ("TP06",), "C17": ("TP17",), "C18": ("TP17",), "C19": ("TP01",),
    "C20": ("TP16",), "C21": ("TP14",),
}  # fmt: skip
#: The coverage indicator a topic's training counts for (spec §1.6 "linked KPI").
TOPIC_KPIS: dict[str, tuple[str, ...]] = {
    "TP01": ("KPI-01", "KPI-02"),
    "TP02": ("KPI-03",),
    "TP03": ("KPI-05",),
    "TP04": ("KPI-04",),
}
#: The course kind suggested for a topic in the training plan (spec §1.7), else CR11.
TOPIC_COURSES: dict[str, str] = {"TP02": "CR04", "TP03": "CR10", "TP14": "CR09"}


@functools.lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower-case text without accents or separators, for forgiving matching ("Viên-chức")."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().replace("_", " ").replace("-", " ").split())


#: Short words spreadsheets use for some codes, besides the labels.
ALIASES: dict[str, tuple[str, ...]] = {
    "province": ("Tỉnh",), "district": ("Huyện",), "commune": ("Xã", "Phường"),
    "village": ("Thôn", "Thôn (CTV)", "CTV thôn", "Tổ dân phố"),
}  # fmt: skip


def lookup(labels: Labels, raw: str) -> str | None:
    """Find the code a spreadsheet value stands for: a code, a label, or a known short word.

    :param labels: the code list.
    :param raw: the cell's text.
    :return: the code, or None when nothing matches.
    """
    return _index(id(labels), labels).get(fold(raw))


_INDEXES: dict[int, dict[str, str]] = {}


def _index(key: int, labels: Labels) -> dict[str, str]:
    """Folded words → code, built once per code list (imports look up millions of cells)."""
    index = _INDEXES.get(key)
    if index is None:
        index = {}
        for code, (vi, en) in labels.items():
            for word in (code, vi, en, *ALIASES.get(code, ())):
                index.setdefault(fold(word), code)
        _INDEXES[key] = index
    return index
