using System.Text;
using System.Text.RegularExpressions;

namespace AiRbac.Core.Tests;

/// <summary>
/// The repository stands alone (docs/design.md, "Citing the documentation"): every file, section, choice, named section
/// and anchor that the code, the tests, README.md and docs/ cite must exist in the repository, and nothing cites an
/// internal tracker or a document the repository does not hold. An operator's test: it reads files, not assemblies.
/// </summary>
public partial class DocumentationLinksTests
{
    private static readonly Lazy<Repository> Repo = new(() => new Repository(RepositoryRoot.Path));

    [Fact]
    public void Citations_InCodeDocsAndReadme_ResolveToFilesAndSectionsThatExist()
    {
        var problems = new List<string>();
        foreach (var file in Repo.Value.ScannedFiles())
        {
            foreach (var (line, text) in Repo.Value.Lines(file))
            {
                CheckLine(file, line, text, problems);
            }
        }

        problems.Should().BeEmpty("every citation must point at a file and section of the repository:\n" + string.Join("\n", problems));
    }

    [Fact]
    public void Scan_CoversTheCodeAndTheDocs_AndFindsCitations()
    {
        var files = Repo.Value.ScannedFiles().Select(f => Path.GetRelativePath(Repo.Value.Root, f).Replace('\\', '/')).ToList();

        files.Should().Contain(["README.md", "docs/design.md", "docs/policy-language.md", "src/AiRbac.Core/CompiledPolicy.cs"]);
        files.Should().NotContain(f => f.Contains("/bin/", StringComparison.Ordinal) || f.Contains("/obj/", StringComparison.Ordinal));
        var sections = Repo.Value.Headings(Path.Combine(Repo.Value.Root, "docs", "policy-language.md"));
        sections.Numbered.Should().Contain(["1", "4", "10"]);
        Repo.Value.Choices.Should().Contain(24);
        sections.Slugs.Should().Contain(["4-the-decision", "choices-where-the-specification-is-silent"]);
    }

    [Theory]
    [InlineData("see docs/policy-language.md, section 4", true)]
    [InlineData("see docs/policy-language.md, section 99", false)]
    [InlineData("(policy-language.md, choice 24)", true)]
    [InlineData("(policy-language.md, choice 99)", false)]
    [InlineData("see docs/design.md, \"Public surface\"", true)]
    [InlineData("see docs/design.md, \"No such section\"", false)]
    [InlineData("[x](policy-language.md#4-the-decision)", true)]
    [InlineData("[x](policy-language.md#4-the-verdict)", false)]
    [InlineData("[x](missing.md)", false)]
    [InlineData("see docs/MISSING-SPEC.md", false)]
    [InlineData("as POLICY" + "-SPEC says", false)]
    [InlineData("fixed in issue " + "12", false)]
    public void CheckLine_FlagsExactlyTheBrokenCitations(string text, bool resolves)
    {
        var problems = new List<string>();
        CheckLine(Path.Combine(Repo.Value.Root, "docs", "design.md"), 1, text, problems);

        if (resolves)
        {
            problems.Should().BeEmpty();
        }
        else
        {
            problems.Should().NotBeEmpty();
        }
    }

    private static void CheckLine(string file, int line, string text, List<string> problems)
    {
        var repo = Repo.Value;
        string where = $"{Path.GetRelativePath(repo.Root, file).Replace('\\', '/')}:{line}";
        bool markdown = file.EndsWith(".md", StringComparison.Ordinal);
        void Problem(string what) => problems.Add($"{where}: {what}");

        foreach (Match m in Forbidden().Matches(text))
        {
            Problem($"'{m.Value}' cites something outside the repository");
        }

        if (!markdown && text.Contains('§', StringComparison.Ordinal))
        {
            Problem("'§' without a file: write 'docs/policy-language.md, section N'");
        }

        // Markdown links: [text](path#anchor), relative to the document.
        if (markdown)
        {
            foreach (Match m in MarkdownLink().Matches(text))
            {
                string target = m.Groups["target"].Value;
                if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }

                int hash = target.IndexOf('#', StringComparison.Ordinal);
                string path = hash < 0 ? target : target[..hash];
                string? anchor = hash < 0 ? null : target[(hash + 1)..];
                string resolved = path.Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, path));
                if (!File.Exists(resolved) && !Directory.Exists(resolved))
                {
                    Problem($"link to '{target}': no such file");
                }
                else if (anchor is not null && resolved.EndsWith(".md", StringComparison.Ordinal) && !repo.Headings(resolved).Slugs.Contains(anchor))
                {
                    Problem($"link to '{target}': no heading with that anchor");
                }
            }
        }

        // Every file named X.md (docs/X.md, a path from the root, or a sibling in docs/) must exist.
        foreach (Match m in MarkdownFile().Matches(text))
        {
            if (repo.Resolve(file, m.Value) is null)
            {
                Problem($"'{m.Value}': no such file in the repository");
            }
        }

        // X.md, section N (numbered heading), X.md, "Heading", X.md#anchor.
        foreach (Match m in FileSection().Matches(text))
        {
            if (repo.Resolve(file, m.Groups["file"].Value) is { } doc && !repo.Headings(doc).Numbered.Contains(m.Groups["n"].Value))
            {
                Problem($"'{m.Value}': {m.Groups["file"].Value} has no section {m.Groups["n"].Value}");
            }
        }

        foreach (Match m in FileHeading().Matches(text))
        {
            if (repo.Resolve(file, m.Groups["file"].Value) is { } doc && !repo.Headings(doc).Titles.Contains(m.Groups["title"].Value))
            {
                Problem($"'{m.Value}': {m.Groups["file"].Value} has no section named \"{m.Groups["title"].Value}\"");
            }
        }

        foreach (Match m in FileAnchor().Matches(text))
        {
            if (repo.Resolve(file, m.Groups["file"].Value) is { } doc && !repo.Headings(doc).Slugs.Contains(m.Groups["anchor"].Value))
            {
                Problem($"'{m.Value}': {m.Groups["file"].Value} has no heading with that anchor");
            }
        }

        // "choice N" and "choices N and M": the numbered items of policy-language.md's choices.
        foreach (Match m in Choice().Matches(text))
        {
            foreach (var group in new[] { m.Groups["a"], m.Groups["b"] })
            {
                if (group.Success && !repo.Choices.Contains(int.Parse(group.Value, System.Globalization.CultureInfo.InvariantCulture)))
                {
                    Problem($"'{m.Value}': docs/policy-language.md has no choice {group.Value}");
                }
            }
        }

        // In a document with numbered sections, "section N" or "§N" alone means a section of that document.
        if (markdown && repo.Headings(file).Numbered.Count > 0)
        {
            foreach (Match m in BareSection().Matches(text))
            {
                if (!repo.Headings(file).Numbered.Contains(m.Groups["n"].Value))
                {
                    Problem($"'{m.Value}': this document has no section {m.Groups["n"].Value}");
                }
            }
        }
    }

    [GeneratedRegex(@"POLICY-SPEC|STYLE\.md|\b[Ii]ssue #?\d+\b|\.\./shared\b")]
    private static partial Regex Forbidden();

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"(?<![\w.*/-])(?:[\w-]+/)*[\w-]+\.md\b")]
    private static partial Regex MarkdownFile();

    [GeneratedRegex(@"(?<file>(?:[\w-]+/)*[\w-]+\.md),? (?:section |§ ?)(?<n>\d+)")]
    private static partial Regex FileSection();

    [GeneratedRegex(@"(?<file>(?:[\w-]+/)*[\w-]+\.md), ""(?<title>[^""]+)""")]
    private static partial Regex FileHeading();

    [GeneratedRegex(@"(?<file>(?:[\w-]+/)*[\w-]+\.md)#(?<anchor>[\w-]+)")]
    private static partial Regex FileAnchor();

    [GeneratedRegex(@"\b[Cc]hoices? (?<a>\d+)(?: and (?<b>\d+))?")]
    private static partial Regex Choice();

    [GeneratedRegex(@"(?<!\.md,? )(?:\bsection |§)(?<n>\d+)")]
    private static partial Regex BareSection();

    /// <summary>The headings of one Markdown document: their titles, GitHub anchors, and section numbers.</summary>
    private sealed record DocHeadings(HashSet<string> Titles, HashSet<string> Slugs, HashSet<string> Numbered);

    private sealed partial class Repository(string root)
    {
        private readonly Dictionary<string, DocHeadings> headings = new(StringComparer.Ordinal);
        private readonly Lock gate = new();

        public string Root { get; } = root;

        /// <summary>The numbers of the items under policy-language.md's "Choices where the specification is silent".</summary>
        public HashSet<int> Choices { get; } = ReadChoices(Path.Combine(root, "docs", "policy-language.md"));

        public IEnumerable<string> ScannedFiles()
        {
            var files = new List<string> { Path.Combine(Root, "README.md") };
            files.AddRange(Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md"));
            foreach (string folder in new[] { "src", "tests" })
            {
                files.AddRange(Directory.EnumerateFiles(Path.Combine(Root, folder), "*.cs", SearchOption.AllDirectories)
                    .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.EndsWith(nameof(DocumentationLinksTests) + ".cs", StringComparison.Ordinal)));
            }

            return files;
        }

        /// <summary>The lines of a file with their numbers; in Markdown, fenced code blocks are left out.</summary>
        public IEnumerable<(int Line, string Text)> Lines(string file)
        {
            bool fenced = false;
            int number = 0;
            bool markdown = file.EndsWith(".md", StringComparison.Ordinal);
            foreach (string text in File.ReadLines(file))
            {
                number++;
                if (markdown && text.TrimStart().StartsWith("```", StringComparison.Ordinal))
                {
                    fenced = !fenced;
                    continue;
                }

                if (!fenced)
                {
                    yield return (number, text);
                }
            }
        }

        /// <summary>Where a cited Markdown file is: a path from the root, a sibling of the citing document, or in docs/.</summary>
        public string? Resolve(string citingFile, string cited)
        {
            var candidates = new[]
            {
                Path.Combine(Root, cited),
                Path.Combine(Path.GetDirectoryName(citingFile)!, cited),
                Path.Combine(Root, "docs", cited),
            };
            return candidates.Select(Path.GetFullPath).FirstOrDefault(File.Exists);
        }

        public DocHeadings Headings(string file)
        {
            file = Path.GetFullPath(file);
            lock (gate)
            {
                if (!headings.TryGetValue(file, out var found))
                {
                    found = ReadHeadings(file);
                    headings[file] = found;
                }

                return found;
            }
        }

        private DocHeadings ReadHeadings(string file)
        {
            var titles = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var slugs = new HashSet<string>(StringComparer.Ordinal);
            var numbered = new HashSet<string>(StringComparer.Ordinal);
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (_, text) in Lines(file))
            {
                var heading = Heading().Match(text);
                if (!heading.Success)
                {
                    continue;
                }

                string title = heading.Groups["title"].Value.Trim();
                titles.Add(title);
                if (SectionNumber().Match(title) is { Success: true } n)
                {
                    numbered.Add(n.Groups["n"].Value);
                    titles.Add(title[n.Length..].Trim());
                }

                string slug = Slug(title);
                slugs.Add(seen.TryGetValue(slug, out int count) ? $"{slug}-{count}" : slug);
                seen[slug] = count + 1;
            }

            return new DocHeadings(titles, slugs, numbered);
        }

        private static HashSet<int> ReadChoices(string file)
        {
            var choices = new HashSet<int>();
            bool inChoices = false;
            foreach (string text in File.ReadLines(file))
            {
                if (Heading().Match(text) is { Success: true } heading)
                {
                    inChoices = heading.Groups["title"].Value.StartsWith("Choices where", StringComparison.Ordinal);
                }
                else if (inChoices && ChoiceItem().Match(text) is { Success: true } item)
                {
                    choices.Add(int.Parse(item.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture));
                }
            }

            return choices;
        }

        // GitHub's anchors: lower case; letters, digits, '-' and '_' kept; spaces become '-'; everything else dropped.
        private static string Slug(string title)
        {
            var slug = new StringBuilder(title.Length);
            foreach (char c in title.ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                {
                    slug.Append(c);
                }
                else if (c == ' ')
                {
                    slug.Append('-');
                }
            }

            return slug.ToString();
        }

        [GeneratedRegex(@"^#{1,6} (?<title>.+)$")]
        private static partial Regex Heading();

        [GeneratedRegex(@"^(?<n>\d+)\. ")]
        private static partial Regex SectionNumber();

        [GeneratedRegex(@"^(?<n>\d+)\. ")]
        private static partial Regex ChoiceItem();
    }
}
