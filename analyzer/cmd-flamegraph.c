/* SPDX-License-Identifier: MIT */
/*
 * sprof-report flamegraph: the call tree as an interactive flame graph, one
 * self-contained SVG file (inline style and script, nothing fetched).
 *
 * Every frame is a <g class="f"> holding a <title> (its tooltip: the name on
 * the first line, then samples, share and CPU time), a <rect> and a <text>
 * label cut to fit, and three attributes the script uses: data-x (the
 * offset of its first sample), data-n (its samples) and data-d (its depth).
 * Siblings are sorted by name, so that graphs of similar profiles look
 * alike; a frame's width is its share of all samples. Without a script (an
 * <img>, a static viewer) the graph is still drawn.
 *
 * The script: hover shows the tooltip's text in the details line; a click
 * zooms into a frame (its subtree fills the width, its ancestors stay, at
 * full width and faded); "Reset zoom" or Escape goes back; "Search", Ctrl-F
 * or "/" asks for a regular expression, highlights the matching frames and
 * shows the share of all samples that pass through any of them (each sample
 * counted once, however many matching frames it has).
 *
 * --diff BASE: the graph is NEW's (the FILE arguments); each frame is
 * coloured by the change of its self share from BASE to NEW, both as parts
 * of their own totals: red grew, blue shrank, the stronger the larger the
 * change. Frames are matched by their path of function names and modules
 * from the root. The tooltip gives both profiles' samples and shares and
 * the changes in points and in samples (BASE scaled to NEW's total).
 *
 * Names are XML-escaped everywhere (they are C++ templates and operators);
 * the script reads them from the DOM, never from generated code.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calltree.h"
#include "cli.h"
#include "filter.h"
#include "log.h"
#include "output.h"
#include "symbolize.h"

#define XPAD 10.0  /* left and right margin */
#define FRAME_H 16 /* height of a row of frames */
#define TOP 54     /* title, subtitle and controls */
#define NOTE_H 16  /* --diff: a line on what BASE has and NEW lacks */
#define BOTTOM 24  /* the details line */
#define CHAR_W 7.3 /* width of a character of the 12px monospace font */
#define MAX_WIDTH 100000

enum colors { COLORS_KIND, COLORS_MODULE };

/* The call tree (calltree.h, siblings by name) laid out: the offset of
 * every node's first sample, the nodes in preorder, and for --diff the
 * matching node of the BASE tree. */
struct layout {
    const struct sp_profile *p;
    struct calltree t;
    uint64_t *x;     /* per node */
    uint32_t *order; /* preorder: parents before children, siblings by name */
    uint32_t *base;  /* --diff: per node, the BASE node or SP_NONE */
};

struct flamegraph {
    const char *title;
    unsigned width;
    double minwidth;
    int inverted;
    enum colors colors;
    const char *out_path;
};

static const char usage_text[] =
    "usage: sprof-report flamegraph [OPTIONS] FILE...\n"
    "\n"
    "An interactive flame graph as one self-contained SVG file: hover for\n"
    "details, click to zoom, Search (or Ctrl-F) to highlight functions by regular\n"
    "expression and see their share. Open it in a web browser.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE       write the SVG to FILE (default: standard output)\n"
    "  --title TEXT            the title at the top (default \"Flame Graph\")\n"
    "  --width PX              width of the image (default 1200)\n"
    "  --minwidth PX           leave out frames narrower than PX (default 0.1)\n"
    "  --inverted              an icicle graph: the root at the top, callees below\n"
    "  --colors kind|module    colour frames by kind of code (default: user code\n"
    "                          red-orange, system libraries yellow, interpreters\n"
    "                          green, vDSO/kernel blue, unknown grey) or one hue\n"
    "                          per module\n"
    "  --diff BASE             a differential graph of FILE... against the profile\n"
    "                          BASE (repeat for several files): red grew, blue\n"
    "                          shrank, by the change in self share\n"
    "  -h, --help              this text\n"
    "\n" FILTER_USAGE "\n"
    "With --diff, the filters apply to BASE too.\n";

/* ---- the call tree ---- */

/* Builds the tree of p (as filtered) and lays it out: a child starts where
 * its elder siblings end; self samples come last. */
static void layout_build(struct layout *l, const struct sp_profile *p)
{
    memset(l, 0, sizeof(*l));
    l->p = p;
    calltree_build(&l->t, p, 0, CALLTREE_BY_NAME);
    size_t nn = l->t.nnodes;
    l->x = xcalloc(nn, sizeof(*l->x));
    l->order = xmalloc(nn * sizeof(*l->order));
    uint32_t *stack = xmalloc(nn * sizeof(*stack));
    size_t sp = 0, no = 0;
    stack[sp++] = 0;
    while (sp) {
        uint32_t i = stack[--sp];
        const struct ct_node *n = &l->t.nodes[i];
        l->order[no++] = i;
        uint64_t x = l->x[i];
        for (uint32_t k = 0; k < n->nkids; k++) {
            uint32_t c = l->t.kids[n->kids + k];
            l->x[c] = x;
            x += l->t.nodes[c].total;
        }
        /* pushed last to first, so that the first child is visited first */
        for (uint32_t k = n->nkids; k-- > 0;)
            stack[sp++] = l->t.kids[n->kids + k];
    }
    free(stack);
}

static void layout_release(struct layout *l)
{
    calltree_release(&l->t);
    free(l->x);
    free(l->order);
    free(l->base);
}

static uint64_t name_hash(const struct sp_func *f, uint32_t inlined)
{
    uint64_t h = hash_bytes(f->name, strlen(f->name), 1 + inlined);
    return hash_mix(h, hash_bytes(f->module, strlen(f->module), 3));
}

/* Points every node of l that has a counterpart in base (the same path of
 * function names and modules from the root) at it; marks in base_seen
 * which base nodes were matched. */
static void layout_match(struct layout *l, const struct layout *base, uint8_t *base_seen)
{
    const struct calltree *bt = &base->t;
    struct u64map ix = {0}; /* (base parent, name hash) -> base node */
    for (size_t i = 1; i < bt->nnodes; i++) {
        const struct ct_node *b = &bt->nodes[i];
        u64map_put(&ix, b->parent, name_hash(&base->p->funcs[b->func], b->inlined), i, NULL);
    }
    size_t nn = l->t.nnodes;
    l->base = xmalloc(nn * sizeof(*l->base));
    memset(l->base, 0xff, nn * sizeof(*l->base)); /* SP_NONE */
    l->base[0] = 0;
    base_seen[0] = 1;
    for (size_t k = 1; k < nn; k++) {
        uint32_t i = l->order[k];
        const struct ct_node *n = &l->t.nodes[i];
        uint32_t bp = l->base[n->parent];
        if (bp == SP_NONE) continue;
        const struct sp_func *f = &l->p->funcs[n->func];
        uint64_t *v = u64map_get(&ix, bp, name_hash(f, n->inlined));
        if (!v) continue;
        const struct ct_node *b = &bt->nodes[*v];
        const struct sp_func *g = &base->p->funcs[b->func];
        if (b->inlined != n->inlined || strcmp(f->name, g->name) != 0 ||
            strcmp(f->module, g->module) != 0)
            continue;
        l->base[i] = (uint32_t)*v;
        base_seen[*v] = 1;
    }
    u64map_release(&ix);
}

/* ---- colours ---- */

struct rgb {
    unsigned r, g, b;
};

static struct rgb hsl(double h, double s, double l)
{
    h = fmod(h, 360.0) / 60.0;
    double c = (1 - fabs(2 * l - 1)) * s;
    double x = c * (1 - fabs(fmod(h, 2.0) - 1));
    double r = 0, g = 0, b = 0;
    switch ((int)h) {
    case 0:
        r = c, g = x;
        break;
    case 1:
        r = x, g = c;
        break;
    case 2:
        g = c, b = x;
        break;
    case 3:
        g = x, b = c;
        break;
    case 4:
        r = x, b = c;
        break;
    default:
        r = c, b = x;
        break;
    }
    double m = l - c / 2;
    return (struct rgb){(unsigned)lround((r + m) * 255), (unsigned)lround((g + m) * 255),
                        (unsigned)lround((b + m) * 255)};
}

enum kind { KIND_USER, KIND_LIB, KIND_INTERP, KIND_KERNEL, KIND_UNKNOWN };

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The kind of code a function is, from its module's name and path. */
static enum kind kind_of(const struct sp_func *f, const char *path)
{
    static const char *const interp[] = {
        "libpython", "python", "libperl",   "perl",   "libruby", "ruby", "node",   "libnode",
        "libjvm",    "java",   "libluajit", "luajit", "liblua",  "lua",  "libphp", "php"};
    const char *m = f->module;
    if (!m[0] || strcmp(f->name, "[unknown]") == 0 || strcmp(f->name, "[missing stack]") == 0)
        return KIND_UNKNOWN;
    if (m[0] == '[') return KIND_KERNEL; /* [vdso], [vsyscall] */
    for (size_t i = 0; i < sizeof(interp) / sizeof(interp[0]); i++)
        if (has_prefix(m, interp[i])) return KIND_INTERP;
    if (path && (has_prefix(path, "/lib/") || has_prefix(path, "/lib32/") ||
                 has_prefix(path, "/lib64/") || has_prefix(path, "/usr/lib/") ||
                 has_prefix(path, "/usr/lib32/") || has_prefix(path, "/usr/lib64/")))
        return KIND_LIB;
    return KIND_USER;
}

/* The fill of a frame: a hue for its kind or module, varied a little by
 * its name, the same in every graph. */
static struct rgb frame_color(const struct sp_func *f, const char *path, enum colors how)
{
    uint64_t h = hash_bytes(f->name, strlen(f->name), 7);
    double v1 = (double)(h & 0xffff) / 65535.0, v2 = (double)(h >> 16 & 0xffff) / 65535.0;
    if (how == COLORS_MODULE) {
        if (!f->module[0]) return hsl(0, 0, 0.72 + 0.08 * v1);
        uint64_t hm = hash_bytes(f->module, strlen(f->module), 11);
        return hsl((double)(hm % 360), 0.55 + 0.2 * v1, 0.62 + 0.1 * v2);
    }
    switch (kind_of(f, path)) {
    case KIND_LIB:
        return hsl(46 + 12 * v1, 0.78, 0.52 + 0.1 * v2);
    case KIND_INTERP:
        return hsl(95 + 35 * v1, 0.5, 0.5 + 0.1 * v2);
    case KIND_KERNEL:
        return hsl(190 + 25 * v1, 0.6, 0.58 + 0.1 * v2);
    case KIND_UNKNOWN:
        return hsl(0, 0, 0.7 + 0.1 * v1);
    default:
        return hsl(4 + 30 * v1, 0.8, 0.55 + 0.08 * v2);
    }
}

/* red (grew) or blue (shrank) by delta relative to the largest change */
static struct rgb diff_color(double delta, double maxd)
{
    double v = maxd > 0 ? fabs(delta) / maxd : 0;
    if (v > 1) v = 1;
    double n = 228, r, g, b;
    if (delta > 0) {
        r = n + (255 - n) * v, g = n - (n - 40) * v, b = n - (n - 40) * v;
    } else {
        r = n - (n - 50) * v, g = n - (n - 90) * v, b = n + (255 - n) * v;
    }
    return (struct rgb){(unsigned)lround(r), (unsigned)lround(g), (unsigned)lround(b)};
}

/* ---- the SVG ---- */

/* Writes name cut to fit width px: whole, or its start and "..", or
 * nothing when not even three characters fit. Counts UTF-8 characters. */
static void put_label(FILE *out, const char *name, double width)
{
    double room = (width - 6) / CHAR_W;
    if (room < 3) return;
    size_t fit = (size_t)room, chars = 0, cut = 0;
    const char *s = name, *end = name + strlen(name);
    while (*s) {
        size_t n = utf8_seq_len(s, (size_t)(end - s));
        if (!n) n = 1;
        chars++;
        if (chars == fit - 2) cut = (size_t)(s + n - name);
        s += n;
    }
    if (chars <= fit) {
        fput_xml(out, name);
        return;
    }
    char *part = xstrndup(name, cut);
    fput_xml(out, part);
    free(part);
    fputs("..", out);
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

struct view {
    const struct flamegraph *o;
    const struct layout *l;
    const struct layout *base; /* --diff, else NULL */
    uint64_t total, base_total;
    double scale; /* px per sample */
    uint32_t maxdepth;
    double maxd;         /* --diff: largest |change of self share| drawn, points */
    unsigned top;        /* y of the highest row of frames */
    struct u64map paths; /* module name -> path, for the kind colours */
};

/* the BASE node matching node i, or NULL */
static const struct ct_node *base_of(const struct view *v, uint32_t i)
{
    if (!v->base || v->l->base[i] == SP_NONE) return NULL;
    return &v->base->t.nodes[v->l->base[i]];
}

static double self_delta(const struct view *v, uint32_t i)
{
    const struct ct_node *b = base_of(v, i);
    return pct(v->l->t.nodes[i].self, v->total) - pct(b ? b->self : 0, v->base_total);
}

/* what a sample count of BASE stands for at NEW's total */
static double scaled(const struct view *v, uint64_t base_samples)
{
    return v->base_total ? (double)base_samples * (double)v->total / (double)v->base_total : 0;
}

static void put_tooltip(FILE *out, const struct view *v, uint32_t i, const char *name)
{
    const struct ct_node *n = &v->l->t.nodes[i];
    char a[64], b[64];
    fput_xml(out, name);
    fprintf(out, "\n%s%llu samples (%.2f%%), %s CPU", v->base ? "NEW: " : "",
            (unsigned long long)n->total, pct(n->total, v->total),
            fmt_duration(a, sizeof(a), (double)n->total_ns));
    if (n->self)
        fprintf(out, "; self %llu (%.2f%%), %s", (unsigned long long)n->self,
                pct(n->self, v->total), fmt_duration(b, sizeof(b), (double)n->self_ns));
    if (v->base) {
        const struct ct_node *bn = base_of(v, i);
        uint64_t bt = bn ? bn->total : 0, bs = bn ? bn->self : 0;
        if (bn)
            fprintf(out, "\nBASE: %llu samples (%.2f%%); self %llu (%.2f%%)",
                    (unsigned long long)bt, pct(bt, v->base_total), (unsigned long long)bs,
                    pct(bs, v->base_total));
        else
            fputs("\nBASE: not present", out);
        fprintf(out, "\nchange: self %+.2f pts (%+.0f samples), total %+.2f pts (%+.0f samples)",
                self_delta(v, i), (double)n->self - scaled(v, bs),
                pct(n->total, v->total) - pct(bt, v->base_total), (double)n->total - scaled(v, bt));
    }
    if (n->inlined) fputs("\ninlined into its caller", out);
    if (n->func != SP_NONE) {
        const struct sp_func *f = &v->l->p->funcs[n->func];
        if (f->module[0]) {
            fputs("\nmodule: ", out);
            fput_xml(out, f->module);
        }
        if (f->file[0]) {
            fputs("\nsource: ", out);
            fput_xml(out, f->file);
            if (f->line) fprintf(out, ":%u", f->line);
        }
    }
}

static void put_frame(FILE *out, const struct view *v, uint32_t i)
{
    const struct sp_profile *p = v->l->p;
    const struct ct_node *n = &v->l->t.nodes[i];
    uint64_t nx = v->l->x[i];
    const struct sp_func *f = n->func != SP_NONE ? &p->funcs[n->func] : NULL;
    const char *name = f ? f->name : "all";
    double x = XPAD + (double)nx * v->scale, w = (double)n->total * v->scale;
    double y = v->o->inverted ? v->top + (double)n->depth * FRAME_H
                              : v->top + (double)(v->maxdepth - n->depth) * FRAME_H;
    struct rgb c;
    if (v->base) {
        c = diff_color(self_delta(v, i), v->maxd);
    } else if (!f) {
        c = (struct rgb){200, 200, 200};
    } else {
        uint64_t *path = u64map_get(&v->paths, (uintptr_t)f->module, 0);
        c = frame_color(f, path ? (const char *)(uintptr_t)*path : NULL, v->o->colors);
    }
    fprintf(out, "<g class=\"f\" data-x=\"%llu\" data-n=\"%llu\" data-d=\"%u\"><title>",
            (unsigned long long)nx, (unsigned long long)n->total, n->depth);
    put_tooltip(out, v, i, name);
    fprintf(out,
            "</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" rx=\"2\" "
            "fill=\"rgb(%u,%u,%u)\"/><text x=\"%.2f\" y=\"%.1f\">",
            x, y, w, FRAME_H - 1, c.r, c.g, c.b, x + 3, y + 11.5);
    put_label(out, name, w);
    fputs("</text></g>\n", out);
}

static const char style_text[] = "<style>\n"
                                 "text { font-family: monospace; font-size: 12px; fill: #000; }\n"
                                 "#title { font-size: 17px; text-anchor: middle; }\n"
                                 "#subtitle { fill: #555; text-anchor: middle; }\n"
                                 ".btn { cursor: pointer; fill: #1a4f9c; }\n"
                                 ".btn:hover { text-decoration: underline; }\n"
                                 ".f { cursor: pointer; }\n"
                                 ".f text { pointer-events: none; }\n"
                                 ".f:hover rect { stroke: #222; stroke-width: 0.7; }\n"
                                 ".anc rect { opacity: 0.55; }\n"
                                 ".hid { display: none; }\n"
                                 "</style>\n";

/* The script, in CDATA: it holds no "]]>" and no names; names come from
 * the frames' <title> elements. */
static const char script_text[] =
    "<script type=\"text/ecmascript\"><![CDATA[\n"
    "(function () {\n"
    "'use strict';\n"
    "var root = document.documentElement;\n"
    "var PAD = +root.getAttribute('data-pad'), FW = +root.getAttribute('data-fw');\n"
    "var TOTAL = +root.getAttribute('data-total'), CHW = +root.getAttribute('data-chw');\n"
    "var HL = 'rgb(230,0,230)';\n"
    "var details = document.getElementById('details');\n"
    "var matched = document.getElementById('matched');\n"
    "var unzoomBtn = document.getElementById('unzoom');\n"
    "var searchBtn = document.getElementById('search');\n"
    "var clearBtn = document.getElementById('clear');\n"
    "var frames = [], byG = new Map(), lastTerm = '';\n"
    "var gs = document.getElementById('frames').children;\n"
    "for (var i = 0; i < gs.length; i++) {\n"
    "  var g = gs[i], r = g.querySelector('rect'), t = g.querySelector('text');\n"
    "  var tip = g.querySelector('title').textContent;\n"
    "  var f = { g: g, r: r, t: t, tip: tip, name: tip.split('\\n')[0],\n"
    "    x: +g.getAttribute('data-x'), n: +g.getAttribute('data-n'),\n"
    "    d: +g.getAttribute('data-d'), fill: r.getAttribute('fill') };\n"
    "  frames.push(f);\n"
    "  byG.set(g, f);\n"
    "}\n"
    "function label(name, w) {\n"
    "  var room = Math.floor((w - 6) / CHW);\n"
    "  if (room < 3) return '';\n"
    "  var cs = Array.from(name);\n"
    "  return cs.length <= room ? name : cs.slice(0, room - 2).join('') + '..';\n"
    "}\n"
    "function place(f, x, w, anc) {\n"
    "  f.g.classList.remove('hid');\n"
    "  f.g.classList.toggle('anc', anc);\n"
    "  f.r.setAttribute('x', (PAD + x).toFixed(2));\n"
    "  f.r.setAttribute('width', w.toFixed(2));\n"
    "  f.t.setAttribute('x', (PAD + x + 3).toFixed(2));\n"
    "  f.t.textContent = label(f.name, w);\n"
    "}\n"
    "function zoom(z) {\n"
    "  var s = FW / z.n;\n"
    "  frames.forEach(function (f) {\n"
    "    if (f.d < z.d && f.x <= z.x && f.x + f.n >= z.x + z.n) place(f, 0, FW, true);\n"
    "    else if (f.d >= z.d && f.x >= z.x && f.x + f.n <= z.x + z.n)\n"
    "      place(f, (f.x - z.x) * s, f.n * s, false);\n"
    "    else f.g.classList.add('hid');\n"
    "  });\n"
    "  unzoomBtn.classList.toggle('hid', z.d === 0);\n"
    "}\n"
    "function unzoom() { if (frames.length) zoom(frames[0]); }\n"
    "function pctText(n) { return (TOTAL ? 100 * n / TOTAL : 0).toFixed(2) + '%'; }\n"
    "function search(re) {\n"
    "  var spans = [];\n"
    "  frames.forEach(function (f) {\n"
    "    var m = re.test(f.name);\n"
    "    f.g.classList.toggle('match', m);\n"
    "    f.r.setAttribute('fill', m ? HL : f.fill);\n"
    "    if (m) spans.push([f.x, f.x + f.n]);\n"
    "  });\n"
    "  spans.sort(function (a, b) { return a[0] - b[0]; });\n"
    "  var sum = 0, end = -1;\n"
    "  spans.forEach(function (s) {\n"
    "    if (s[0] >= end) { sum += s[1] - s[0]; end = s[1]; }\n"
    "    else if (s[1] > end) { sum += s[1] - end; end = s[1]; }\n"
    "  });\n"
    "  matched.textContent = 'Matched: ' + pctText(sum) + ' (' + sum + ' of ' + TOTAL +\n"
    "    ' samples)';\n"
    "  matched.classList.remove('hid');\n"
    "  clearBtn.classList.remove('hid');\n"
    "  return sum;\n"
    "}\n"
    "function clearSearch() {\n"
    "  frames.forEach(function (f) {\n"
    "    f.g.classList.remove('match');\n"
    "    f.r.setAttribute('fill', f.fill);\n"
    "  });\n"
    "  matched.classList.add('hid');\n"
    "  clearBtn.classList.add('hid');\n"
    "}\n"
    "function askSearch() {\n"
    "  var term = window.prompt('Search for functions (regular expression; (?i) at the ' +\n"
    "    'start ignores case)', lastTerm);\n"
    "  if (term === null) return;\n"
    "  lastTerm = term;\n"
    "  if (term === '') { clearSearch(); return; }\n"
    "  var flags = '';\n"
    "  if (term.indexOf('(?i)') === 0) { flags = 'i'; term = term.slice(4); }\n"
    "  var re;\n"
    "  try { re = new RegExp(term, flags); } catch (e) {\n"
    "    details.textContent = 'Invalid regular expression: ' + e.message;\n"
    "    return;\n"
    "  }\n"
    "  search(re);\n"
    "}\n"
    "function frameOf(ev) {\n"
    "  var g = ev.target.closest ? ev.target.closest('g.f') : null;\n"
    "  return g ? byG.get(g) : null;\n"
    "}\n"
    "var box = document.getElementById('frames');\n"
    "box.addEventListener('mouseover', function (ev) {\n"
    "  var f = frameOf(ev);\n"
    "  if (f) details.textContent = f.tip.split('\\n').join(' | ');\n"
    "});\n"
    "box.addEventListener('mouseout', function () { details.textContent = ' '; });\n"
    "box.addEventListener('click', function (ev) {\n"
    "  var f = frameOf(ev);\n"
    "  if (f) zoom(f);\n"
    "});\n"
    "unzoomBtn.addEventListener('click', unzoom);\n"
    "searchBtn.addEventListener('click', askSearch);\n"
    "clearBtn.addEventListener('click', clearSearch);\n"
    "document.addEventListener('keydown', function (ev) {\n"
    "  if (((ev.ctrlKey || ev.metaKey) && (ev.key === 'f' || ev.key === 'F')) ||\n"
    "      ev.key === 'F3' || ev.key === '/') {\n"
    "    ev.preventDefault();\n"
    "    askSearch();\n"
    "  } else if (ev.key === 'Escape') {\n"
    "    unzoom();\n"
    "    clearSearch();\n"
    "  }\n"
    "});\n"
    "window.sprofFlamegraph = { zoom: function (i) { zoom(frames[i]); }, unzoom: unzoom,\n"
    "  search: function (s) { return search(new RegExp(s)); }, clearSearch: clearSearch,\n"
    "  frames: frames };\n"
    "})();\n"
    "]]></script>\n";

static void put_subtitle(FILE *out, const struct sp_profile *p, const struct sp_profile *base)
{
    char a[64], b[64], c[64], d[64];
    struct sp_totals t;
    sp_profile_totals(p, &t);
    const struct sp_process *pr = p->nprocs ? &p->procs[0] : NULL;
    if (base) {
        struct sp_totals bt;
        sp_profile_totals(base, &bt);
        fprintf(
            out, "NEW %s, %s CPU against BASE %s, %s CPU; red: self share grew, blue: shrank",
            fmt_count(a, sizeof(a), t.samples, "sample"), fmt_seconds(b, sizeof(b), t.weight_ns),
            fmt_count(c, sizeof(c), bt.samples, "sample"), fmt_seconds(d, sizeof(d), bt.weight_ns));
        return;
    }
    if (pr && pr->comm && pr->comm[0] && t.nprocs <= 1) {
        fput_xml(out, pr->comm);
        fputs(": ", out);
    }
    fprintf(out, "%s, %s CPU, %s, %s", fmt_count(a, sizeof(a), t.samples, "sample"),
            fmt_seconds(b, sizeof(b), t.weight_ns), fmt_count(c, sizeof(c), t.nprocs, "process"),
            fmt_count(d, sizeof(d), t.nthreads, "thread"));
}

static void write_svg(FILE *out, struct view *v, const struct sp_profile *base_p, double vanished)
{
    const struct flamegraph *o = v->o;
    const struct calltree *t = &v->l->t;
    double fw = (double)o->width - 2 * XPAD;
    v->total = t->nodes[0].total;
    v->scale = v->total ? fw / (double)v->total : 0;
    v->maxdepth = 0;
    v->maxd = 0;
    for (size_t k = 0; k < t->nnodes; k++) {
        uint32_t i = v->l->order[k];
        const struct ct_node *n = &t->nodes[i];
        if ((double)n->total * v->scale < o->minwidth && k) continue;
        if (n->depth > v->maxdepth) v->maxdepth = n->depth;
        if (v->base && fabs(self_delta(v, i)) > v->maxd) v->maxd = fabs(self_delta(v, i));
    }
    v->top = TOP + (base_p && vanished > 0 ? NOTE_H : 0);
    unsigned height = v->top + (v->maxdepth + 1) * FRAME_H + BOTTOM;
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
            "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" "
            "height=\"%u\" viewBox=\"0 0 %u %u\" data-pad=\"%.0f\" data-fw=\"%.2f\" "
            "data-total=\"%llu\" data-chw=\"%.2f\">\n",
            o->width, height, o->width, height, XPAD, fw, (unsigned long long)v->total, CHAR_W);
    fputs(style_text, out);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%u\" fill=\"#f6f6f2\"/>\n", o->width,
            height);
    fprintf(out, "<text id=\"title\" x=\"%.1f\" y=\"22\">", o->width / 2.0);
    fput_xml(out, o->title ? o->title : base_p ? "Differential Flame Graph" : "Flame Graph");
    fprintf(out, "</text>\n<text id=\"subtitle\" x=\"%.1f\" y=\"40\">", o->width / 2.0);
    put_subtitle(out, v->l->p, base_p);
    if (!v->total) fputs(" (no samples)", out);
    fputs("</text>\n", out);
    if (base_p && vanished > 0)
        fprintf(out,
                "<text id=\"vanished\" x=\"%.1f\" y=\"56\" text-anchor=\"middle\">"
                "not drawn: %.2f%% of BASE's samples are in stacks NEW does not have</text>\n",
                o->width / 2.0, vanished);
    fprintf(out, "<text id=\"unzoom\" class=\"btn hid\" x=\"%.1f\" y=\"22\">Reset zoom</text>\n",
            XPAD);
    fprintf(out,
            "<text id=\"search\" class=\"btn\" x=\"%.1f\" y=\"22\" text-anchor=\"end\">"
            "Search</text>\n",
            o->width - XPAD);
    fprintf(out,
            "<text id=\"clear\" class=\"btn hid\" x=\"%.1f\" y=\"22\" text-anchor=\"end\">"
            "Clear search</text>\n",
            o->width - XPAD - 64);
    fprintf(out,
            "<text id=\"matched\" class=\"hid\" x=\"%.1f\" y=\"%u\" text-anchor=\"end\"> </text>\n",
            o->width - XPAD, height - 7);
    fprintf(out, "<text id=\"details\" x=\"%.1f\" y=\"%u\"> </text>\n", XPAD, height - 7);
    fputs("<g id=\"frames\">\n", out);
    for (size_t k = 0; k < t->nnodes && v->total; k++) {
        uint32_t i = v->l->order[k];
        if ((double)t->nodes[i].total * v->scale < o->minwidth && k) continue;
        put_frame(out, v, i);
    }
    fputs("</g>\n", out);
    fputs(script_text, out);
    fputs("</svg>\n", out);
}

/* ---- the command ---- */

static int parse_double(const char *s, double lo, double hi, double *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || *end || !isfinite(d) || d < lo || d > hi) return -1;
    *out = d;
    return 0;
}

static int run(int argc, char **argv)
{
    enum { OPT_TITLE = 0x100, OPT_WIDTH, OPT_MINWIDTH, OPT_INVERTED, OPT_COLORS, OPT_DIFF };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"title", required_argument, NULL, OPT_TITLE},
        {"width", required_argument, NULL, OPT_WIDTH},
        {"minwidth", required_argument, NULL, OPT_MINWIDTH},
        {"inverted", no_argument, NULL, OPT_INVERTED},
        {"colors", required_argument, NULL, OPT_COLORS},
        {"colours", required_argument, NULL, OPT_COLORS},
        {"diff", required_argument, NULL, OPT_DIFF},
        {"help", no_argument, NULL, 'h'},
        FILTER_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct flamegraph o = {NULL, 1200, 0.1, 0, COLORS_KIND, NULL};
    char **base_files = xcalloc((size_t)argc, sizeof(*base_files));
    int nbase = 0, rc = EXIT_USAGE;
    struct filter_opts flt;
    filter_init(&flt);
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        if (filter_is_option(c)) {
            if (filter_parse(&flt, "flamegraph", c, optarg)) goto out;
            continue;
        }
        unsigned long long w;
        switch (c) {
        case 'o':
            o.out_path = optarg;
            break;
        case OPT_TITLE:
            o.title = optarg;
            break;
        case OPT_WIDTH:
            if (cli_parse_uint(optarg, &w) || w < 100 || w > MAX_WIDTH) {
                cli_usage_error("flamegraph",
                                "--width takes a number of pixels from 100 to %d, not '%s'",
                                MAX_WIDTH, optarg);
                goto out;
            }
            o.width = (unsigned)w;
            break;
        case OPT_MINWIDTH:
            if (parse_double(optarg, 0, MAX_WIDTH, &o.minwidth)) {
                cli_usage_error("flamegraph", "--minwidth takes a number of pixels, not '%s'",
                                optarg);
                goto out;
            }
            break;
        case OPT_INVERTED:
            o.inverted = 1;
            break;
        case OPT_COLORS:
            if (strcmp(optarg, "kind") == 0) {
                o.colors = COLORS_KIND;
            } else if (strcmp(optarg, "module") == 0) {
                o.colors = COLORS_MODULE;
            } else {
                cli_usage_error("flamegraph", "--colors takes kind or module, not '%s'", optarg);
                goto out;
            }
            break;
        case OPT_DIFF:
            base_files[nbase++] = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            rc = 0;
            goto out;
        default:
            cli_bad_option("flamegraph", argv, c);
            goto out;
        }
    }
    struct sp_profile *p = cli_load("flamegraph", argc - optind, argv + optind);
    if (!p) goto out;
    struct sp_profile *bp = NULL;
    if (nbase) {
        bp = cli_load("flamegraph", nbase, base_files);
        if (!bp) {
            sp_profile_free(p);
            goto out;
        }
    }
    filter_apply(p, &flt);
    sp_symbolize(p);
    if (bp) {
        filter_apply(bp, &flt);
        sp_symbolize(bp);
    }

    struct layout l, bl;
    memset(&bl, 0, sizeof(bl));
    layout_build(&l, p);
    struct view v;
    memset(&v, 0, sizeof(v));
    v.o = &o;
    v.l = &l;
    double vanished = 0;
    if (bp) {
        layout_build(&bl, bp);
        uint8_t *seen = xcalloc(bl.t.nnodes, 1);
        layout_match(&l, &bl, seen);
        uint64_t gone = 0;
        for (size_t i = 0; i < bl.t.nnodes; i++)
            if (!seen[i]) gone += bl.t.nodes[i].self;
        free(seen);
        v.base = &bl;
        v.base_total = bl.t.nodes[0].total;
        vanished = pct(gone, v.base_total);
    }
    for (size_t i = 0; i < p->nmodules; i++)
        u64map_put(&v.paths, (uintptr_t)p->modules[i].name, 0, (uintptr_t)p->modules[i].path, NULL);

    FILE *out = cli_open_output(o.out_path);
    if (out) {
        write_svg(out, &v, bp, vanished);
        rc = cli_close_output(out, o.out_path);
    }
    u64map_release(&v.paths);
    layout_release(&l);
    layout_release(&bl);
    sp_profile_free(p);
    sp_profile_free(bp);
out:
    filter_release(&flt);
    free(base_files);
    return rc;
}

const struct command cmd_flamegraph = {
    "flamegraph", run, "interactive SVG flame graph, or a differential one", usage_text};
