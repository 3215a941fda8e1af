using System.Text;
using System.Text.RegularExpressions;

namespace SegServe.Api.FunctionalTests.Deployment;

/// <summary>
/// The metric names a PromQL expression reads, found by a tokenizer that knows PromQL's lexical structure: strings,
/// label matchers (<c>{...}</c>, where only a <c>__name__</c> matcher names a metric), ranges (<c>[...]</c>), numbers and
/// durations, label lists after <c>by</c>/<c>without</c>/<c>on</c>/<c>ignoring</c>/<c>group_left</c>/<c>group_right</c>,
/// keywords, and functions and aggregations (an identifier followed by <c>(</c>, or an aggregation followed by
/// <c>by</c>/<c>without</c>). Every other identifier is a metric name. A real Prometheus checks the syntax itself (see
/// <see cref="ComposeDashboardTests"/>); this finds the names to look up in a live <c>/metrics</c>.
/// </summary>
internal static partial class ComposePromQl
{
    /// <summary>What Grafana's variables stand for when the dashboard's queries are sent to Prometheus directly.</summary>
    private static readonly (string Variable, string Value)[] s_builtIns =
    [
        ("__rate_interval", "1m"),
        ("__interval", "15s"),
        ("__range", "5m"),
    ];

    private static readonly HashSet<string> s_labelListKeywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right",
    };

    private static readonly HashSet<string> s_keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "bool", "offset", "and", "or", "unless", "atan2", "inf", "nan",
    };

    private static readonly HashSet<string> s_aggregations = new(StringComparer.OrdinalIgnoreCase)
    {
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio",
    };

    /// <summary>
    /// The expression with Grafana's built-in interval variables replaced by durations and every dashboard variable
    /// (<c>$name</c>, <c>${name}</c>, <c>[[name]]</c>) by <c>.*</c>, the "All" value of the dashboard's variables, which
    /// are used only in regex matchers.
    /// </summary>
    public static string Substitute(string expression)
    {
        string result = expression;
        foreach ((string variable, string value) in s_builtIns)
        {
            result = result.Replace("${" + variable + "}", value, StringComparison.Ordinal).Replace("$" + variable, value, StringComparison.Ordinal);
        }

        return Variable().Replace(result, ".*");
    }

    /// <summary>The metric names <paramref name="expression"/> (already substituted) reads.</summary>
    public static SortedSet<string> MetricNames(string expression) => Scan(expression).Metrics;

    /// <summary>
    /// The label names <paramref name="expression"/> (already substituted) matches on or groups by: in label matchers,
    /// and in the lists after <c>by</c>, <c>without</c>, <c>on</c>, <c>ignoring</c>, <c>group_left</c>, <c>group_right</c>.
    /// </summary>
    public static SortedSet<string> LabelNames(string expression) => Scan(expression).Labels;

    /// <summary>The label names of each sample name of a text exposition.</summary>
    public static Dictionary<string, HashSet<string>> SampleLabels(string exposition)
    {
        var labels = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (string line in exposition.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            int brace = line.IndexOf('{', StringComparison.Ordinal);
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            string name = brace >= 0 && (space < 0 || brace < space) ? line[..brace] : space < 0 ? line : line[..space];
            if (!labels.TryGetValue(name, out HashSet<string>? set))
            {
                labels[name] = set = new HashSet<string>(StringComparer.Ordinal);
            }

            if (brace >= 0 && (space < 0 || brace < space))
            {
                foreach (Match label in ExposedLabel().Matches(line[brace..SkipBlock(line, brace, '{', '}')]))
                {
                    set.Add(label.Groups[1].Value);
                }
            }
        }

        return labels;
    }

    private static (SortedSet<string> Metrics, SortedSet<string> Labels) Scan(string expression)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        var labels = new SortedSet<string>(StringComparer.Ordinal);
        string text = expression;
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c is '"' or '\'' or '`')
            {
                i = SkipString(text, i);
            }
            else if (c == '#')
            {
                int end = text.IndexOf('\n', i);
                i = end < 0 ? text.Length : end;
            }
            else if (c == '{')
            {
                int end = SkipBlock(text, i, '{', '}');
                foreach (Match match in NameMatcher().Matches(text[i..end]))
                {
                    names.Add(match.Groups[1].Value);
                }

                foreach (Match match in Matcher().Matches(WithoutStrings(text[i..end])))
                {
                    labels.Add(match.Groups[1].Value);
                }

                i = end;
            }
            else if (c == '[')
            {
                i = SkipBlock(text, i, '[', ']');
            }
            else if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])))
            {
                // A number or a duration (5m, 1h30m, 1e3, 0x1f).
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '.' or '_'))
                {
                    i++;
                }
            }
            else if (char.IsAsciiLetter(c) || c is '_' or ':')
            {
                int start = i;
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '_' or ':'))
                {
                    i++;
                }

                string word = text[start..i];
                int next = SkipSpaces(text, i);
                if (s_labelListKeywords.Contains(word))
                {
                    // by (a, b), group_left (c): label names, not metrics. (group_left may stand without a list.)
                    if (next < text.Length && text[next] == '(')
                    {
                        i = SkipBlock(text, next, '(', ')');
                        labels.UnionWith(text[(next + 1)..(i - 1)].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    }
                }
                else if (s_keywords.Contains(word) || (next < text.Length && text[next] == '('))
                {
                    // A keyword, or a function or aggregation applied to what follows.
                }
                else if (s_aggregations.Contains(word) && s_labelListKeywords.Contains(WordAt(text, next)))
                {
                    // sum by (model) (...): the aggregation, its label list comes next.
                }
                else
                {
                    names.Add(word);
                }
            }
            else
            {
                i++;
            }
        }

        return (names, labels);
    }

    /// <summary>The names <paramref name="expression"/> reads that are in neither <paramref name="known"/> set.</summary>
    public static SortedSet<string> UnknownMetrics(string expression, params IReadOnlySet<string>[] known)
    {
        SortedSet<string> names = MetricNames(Substitute(expression));
        names.RemoveWhere(name => known.Any(set => set.Contains(name)));
        return names;
    }

    /// <summary>
    /// The label names <paramref name="expression"/> uses that none of the metrics it reads has (per
    /// <paramref name="labelsByMetric"/>) and that are not in <paramref name="targetLabels"/>, the labels a scrape adds.
    /// </summary>
    public static SortedSet<string> UnknownLabels(string expression, IReadOnlyDictionary<string, HashSet<string>> labelsByMetric, IReadOnlySet<string> targetLabels)
    {
        (SortedSet<string> metrics, SortedSet<string> labels) = Scan(Substitute(expression));
        labels.RemoveWhere(label => label == "__name__" || targetLabels.Contains(label)
            || metrics.Any(metric => labelsByMetric.TryGetValue(metric, out HashSet<string>? known) && known.Contains(label)));
        return labels;
    }

    /// <summary>The sample names of a text exposition (what Prometheus stores: a histogram's <c>_bucket</c>, <c>_sum</c>, <c>_count</c>).</summary>
    public static HashSet<string> SampleNames(string exposition)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in exposition.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            int end = line.IndexOfAny(['{', ' ']);
            names.Add(end < 0 ? line : line[..end]);
        }

        return names;
    }

    private static string WordAt(string text, int i)
    {
        var word = new StringBuilder();
        while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
        {
            word.Append(text[i++]);
        }

        return word.ToString();
    }

    private static int SkipSpaces(string text, int i)
    {
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }

        return i;
    }

    /// <summary>The index after the string literal starting at <paramref name="i"/> (backslash escapes, except in raw `...`).</summary>
    private static int SkipString(string text, int i)
    {
        char quote = text[i++];
        while (i < text.Length && text[i] != quote)
        {
            i += quote != '`' && text[i] == '\\' ? 2 : 1;
        }

        return Math.Min(i + 1, text.Length);
    }

    /// <summary>The index after the block opened at <paramref name="i"/>, nested blocks and strings inside included.</summary>
    private static int SkipBlock(string text, int i, char open, char close)
    {
        int depth = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c is '"' or '\'' or '`')
            {
                i = SkipString(text, i);
                continue;
            }

            if (c == open)
            {
                depth++;
            }
            else if (c == close && --depth == 0)
            {
                return i + 1;
            }

            i++;
        }

        return text.Length;
    }

    [GeneratedRegex(@"\$\{[A-Za-z_][A-Za-z0-9_]*(?::[^}]*)?\}|\[\[[A-Za-z_][A-Za-z0-9_]*\]\]|\$[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex Variable();

    /// <summary>The text with every string literal emptied (so that what a matcher's value holds is not read as PromQL).</summary>
    private static string WithoutStrings(string text)
    {
        var result = new StringBuilder();
        int i = 0;
        while (i < text.Length)
        {
            if (text[i] is '"' or '\'' or '`')
            {
                i = SkipString(text, i);
                result.Append("\"\"");
            }
            else
            {
                result.Append(text[i++]);
            }
        }

        return result.ToString();
    }

    [GeneratedRegex(@"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)")]
    private static partial Regex Matcher();

    [GeneratedRegex(@"([A-Za-z_][A-Za-z0-9_]*)=""(?:[^""\\]|\\.)*""")]
    private static partial Regex ExposedLabel();

    [GeneratedRegex(@"__name__\s*=\s*""([^""]*)""")]
    private static partial Regex NameMatcher();
}
