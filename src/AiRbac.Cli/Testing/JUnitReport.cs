using System.Globalization;
using System.Text;
using System.Xml;
using AiRbac.Diagnostics;

namespace AiRbac.Cli.Testing;

/// <summary>
/// Writes a run as JUnit XML (the Ant/Jenkins shape CI servers read: <c>testsuites</c>, one <c>testsuite</c> per test file
/// with <c>name</c>, <c>tests</c>, <c>failures</c>, <c>errors</c>, <c>skipped</c>, <c>time</c>; one <c>testcase</c> per case
/// with <c>name</c>, <c>classname</c>, <c>time</c>, and a <c>failure</c> or <c>error</c>). Written with
/// <see cref="XmlWriter"/>; every text is made valid XML 1.0 first: a character XML cannot hold (most control
/// characters, a lone surrogate, U+FFFE), and a control or bidirectional formatting character, is written as <c>\uXXXX</c>.
/// </summary>
internal static class JUnitReport
{
    /// <summary>The name of the suite that holds one coverage check per policy (with <c>--min-coverage</c>).</summary>
    public const string CoverageSuite = "airbac coverage";

    /// <summary>Writes the report to <paramref name="output"/> (UTF-8, no byte order mark).</summary>
    public static void Write(Stream output, IReadOnlyList<FileResult> files, IReadOnlyList<(PolicyUnderTest Policy, bool Met)> coverage, decimal? minimum, double seconds)
    {
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true, CheckCharacters = true, NewLineHandling = NewLineHandling.Entitize };
        using var xml = XmlWriter.Create(output, settings);
        int tests = files.Sum(f => f.Errors.Count > 0 ? 1 : f.Cases.Count) + coverage.Count;
        int failures = files.Sum(f => f.Failures) + coverage.Count(c => !c.Met);
        int errors = files.Count(f => f.Errors.Count > 0);

        xml.WriteStartDocument();
        xml.WriteStartElement("testsuites");
        xml.WriteAttributeString("name", "airbac test");
        Counts(xml, tests, failures, errors, seconds);
        foreach (var file in files)
        {
            WriteFile(xml, file);
        }

        if (coverage.Count > 0)
        {
            xml.WriteStartElement("testsuite");
            xml.WriteAttributeString("name", CoverageSuite);
            Counts(xml, coverage.Count, coverage.Count(c => !c.Met), 0, 0);
            xml.WriteAttributeString("skipped", "0");
            foreach (var (policy, met) in coverage)
            {
                var rules = policy.Coverage!;
                xml.WriteStartElement("testcase");
                xml.WriteAttributeString("name", Safe(policy.DisplayPath));
                xml.WriteAttributeString("classname", CoverageSuite);
                xml.WriteAttributeString("time", "0");
                if (!met)
                {
                    xml.WriteStartElement("failure");
                    xml.WriteAttributeString("type", "coverage_below_minimum");
                    xml.WriteAttributeString("message", Safe(string.Create(CultureInfo.InvariantCulture, $"coverage {rules.Percent:0.0}% is below --min-coverage {minimum}")));
                    xml.WriteString(Safe(rules.Summary() + "\n" + string.Join("\n", rules.Uncovered.Take(Tuning.Compile.MaxReportedDiagnostics).Select(i => $"{i.Location}: {i.Describe()} {rules.Missing(i)}")), multiline: true));
                    xml.WriteEndElement();
                }

                xml.WriteEndElement();
            }

            xml.WriteEndElement();
        }

        xml.WriteEndElement();
        xml.WriteEndDocument();
    }

    private static void WriteFile(XmlWriter xml, FileResult file)
    {
        xml.WriteStartElement("testsuite");
        xml.WriteAttributeString("name", Safe(file.Path));
        bool broken = file.Errors.Count > 0;
        Counts(xml, broken ? 1 : file.Cases.Count, file.Failures, broken ? 1 : 0, file.Seconds);
        xml.WriteAttributeString("skipped", "0");
        if (file.PolicyPath is { } policy)
        {
            xml.WriteStartElement("properties");
            xml.WriteStartElement("property");
            xml.WriteAttributeString("name", "policy");
            xml.WriteAttributeString("value", Safe(policy));
            xml.WriteEndElement();
            xml.WriteEndElement();
        }

        if (broken)
        {
            // No case ran: one test case stands for the file, in error (not failed: nothing was decided).
            xml.WriteStartElement("testcase");
            xml.WriteAttributeString("name", "(test file)");
            xml.WriteAttributeString("classname", Safe(file.Path));
            Time(xml, file.Seconds);
            xml.WriteStartElement("error");
            xml.WriteAttributeString("type", file.Errors[0].Code);
            xml.WriteAttributeString("message", Safe(file.Errors[0].ToString()));
            xml.WriteString(Safe(string.Join("\n", file.Errors.Select(e => e.ToString())), multiline: true));
            xml.WriteEndElement();
            xml.WriteEndElement();
        }

        foreach (var result in file.Cases)
        {
            xml.WriteStartElement("testcase");
            xml.WriteAttributeString("name", Safe(result.Case.Name));
            xml.WriteAttributeString("classname", Safe(file.Path));
            Time(xml, result.Seconds);
            if (result.Failure is { } failure)
            {
                xml.WriteStartElement("failure");
                xml.WriteAttributeString("type", PolicyTestRun.TestFailed);
                xml.WriteAttributeString("message", Safe(failure));
                xml.WriteString(Safe(FailureText(file, result), multiline: true));
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
        }

        xml.WriteEndElement();
    }

    /// <summary>The lines a failure shows: where, what was asked, what was expected, what was decided.</summary>
    public static string FailureText(FileResult file, CaseResult result)
        => $"{result.Case.Location}: {result.Failure}\nrequest: {result.Case.RequestLine}\nexpected: {PolicyTestRun.ExpectationLine(result.Case.Expect)}\ndecision: {PolicyTestRun.DecisionLine(result.Decision)}\npolicy: {file.PolicyPath}";

    private static void Counts(XmlWriter xml, int tests, int failures, int errors, double seconds)
    {
        xml.WriteAttributeString("tests", tests.ToString(CultureInfo.InvariantCulture));
        xml.WriteAttributeString("failures", failures.ToString(CultureInfo.InvariantCulture));
        xml.WriteAttributeString("errors", errors.ToString(CultureInfo.InvariantCulture));
        Time(xml, seconds);
    }

    private static void Time(XmlWriter xml, double seconds)
        => xml.WriteAttributeString("time", seconds.ToString("0.000", CultureInfo.InvariantCulture));

    /// <summary>
    /// The text with every character XML 1.0 cannot hold, and every control or bidirectional formatting character, as
    /// <c>\uXXXX</c> (newline and tab kept in element text when <paramref name="multiline"/>). Valid surrogate pairs are kept.
    /// </summary>
    internal static string Safe(string text, bool multiline = false)
    {
        StringBuilder? builder = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            bool pair = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            bool keep = pair || (multiline && c is '\n' or '\t') || (XmlConvert.IsXmlChar(c) && !UnsafeText.IsUnsafe(c));
            if (keep && builder is null)
            {
                i += pair ? 1 : 0;
                continue;
            }

            builder ??= new StringBuilder(text.Length + 16).Append(text, 0, i);
            if (pair)
            {
                builder.Append(c).Append(text[++i]);
            }
            else if (keep)
            {
                builder.Append(c);
            }
            else
            {
                builder.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
        }

        return builder?.ToString() ?? text;
    }
}
