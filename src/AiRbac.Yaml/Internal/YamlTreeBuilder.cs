using AiRbac.Diagnostics;
using AiRbac.Model;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace AiRbac.Yaml.Internal;

/// <summary>The outcome of reading the YAML stream into a tree.</summary>
/// <param name="Root">The root node of the (single) document, or <see langword="null"/> when there is none or reading stopped.</param>
/// <param name="Complete">Whether the first document was read to its end; when not, no structural check is meaningful.</param>
internal readonly record struct YamlTree(YamlNode? Root, bool Complete);

/// <summary>
/// Builds a <see cref="YamlNode"/> tree from YamlDotNet parser events, enforcing the depth, scalar length, node count and
/// expanded scalar character limits as events arrive, so hostile input is refused before it costs time or memory.
/// </summary>
internal sealed class YamlTreeBuilder
{
    private readonly string source;
    private readonly string what;
    private readonly YamlLoadLimits limits;
    private readonly List<PolicyDiagnostic> diagnostics;
    private readonly Stack<Frame> open = new();
    private readonly Dictionary<string, Anchor> anchors = new(StringComparer.Ordinal);
    private long nodeCount;
    private long scalarCharacters;
    private YamlNode? root;

    private YamlTreeBuilder(string source, string what, YamlLoadLimits limits, List<PolicyDiagnostic> diagnostics)
    {
        this.source = source;
        this.what = what;
        this.limits = limits;
        this.diagnostics = diagnostics;
    }

    /// <summary>Reads <paramref name="text"/>; every problem is added to <paramref name="diagnostics"/> (<paramref name="what"/> names the file in messages).</summary>
    public static YamlTree Build(string text, string source, YamlLoadLimits limits, List<PolicyDiagnostic> diagnostics, string what = "policy file")
        => new YamlTreeBuilder(source, what, limits, diagnostics).Run(text);

    private YamlTree Run(string text)
    {
        var scanner = new Scanner(new StringReader(text), skipComments: true);
        var parser = new Parser(scanner);
        var documents = 0;
        var lastSeen = new Mark();
        while (true)
        {
            ParsingEvent current;
            try
            {
                if (!parser.MoveNext())
                {
                    break;
                }

                current = parser.Current!;
            }
#pragma warning disable CA1031 // YamlDotNet throws more than YamlException on some malformed input (a bare InvalidOperationException for some flow collections); any failure of the parser is a syntax error, never a crash.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                ReportSyntax(ex, scanner, lastSeen);
                return new YamlTree(null, Complete: false);
            }

            lastSeen = current.Start;
            switch (current)
            {
                case DocumentStart when documents++ > 0:
                    // The first document is complete here; its structure can still be checked.
                    Error(DiagnosticCodes.YamlSyntax, $"a {what} holds exactly one YAML document; found a second one", current.Start);
                    return new YamlTree(root, Complete: true);
                case Scalar scalar:
                    if (!AddScalar(scalar))
                    {
                        return new YamlTree(null, Complete: false);
                    }

                    break;
                case SequenceStart start:
                    if (!Open(new YamlSequence(Line(start.Start), Column(start.Start)), start))
                    {
                        return new YamlTree(null, Complete: false);
                    }

                    break;
                case MappingStart start:
                    if (!Open(new YamlMapping(Line(start.Start), Column(start.Start)), start))
                    {
                        return new YamlTree(null, Complete: false);
                    }

                    break;
                case SequenceEnd or MappingEnd:
                    Close();
                    break;
                case AnchorAlias alias:
                    if (!AddAlias(alias))
                    {
                        return new YamlTree(null, Complete: false);
                    }

                    break;
                default:
                    // StreamStart, StreamEnd, DocumentStart (the first), DocumentEnd, comments: nothing to build.
                    break;
            }
        }

        return new YamlTree(root, Complete: true);
    }

    private bool AddScalar(Scalar scalar)
    {
        if (scalar.Value.Length > limits.MaxScalarLength)
        {
            Error(
                DiagnosticCodes.LimitExceeded,
                $"a scalar of {scalar.Value.Length} characters exceeds the limit of {limits.MaxScalarLength}",
                scalar.Start);
            return false;
        }

        if (!Count(1, scalar.Value.Length, scalar.Start))
        {
            return false;
        }

        var node = new YamlScalar(Line(scalar.Start), Column(scalar.Start), scalar.Value, scalar.Style, !scalar.Tag.IsEmpty);
        if (!scalar.Anchor.IsEmpty)
        {
            anchors[scalar.Anchor.Value] = new Anchor(node) { NodeCount = 1, CharacterCount = scalar.Value.Length, IsOpen = false };
        }

        Attach(node);
        return true;
    }

    private bool Open(YamlNode node, NodeEvent start)
    {
        if (open.Count + 1 > limits.MaxDepth)
        {
            Error(DiagnosticCodes.LimitExceeded, $"nesting deeper than the limit of {limits.MaxDepth} levels", start.Start);
            return false;
        }

        var countBefore = nodeCount;
        var charactersBefore = scalarCharacters;
        if (!Count(1, 0, start.Start))
        {
            return false;
        }

        Anchor? anchor = null;
        if (!start.Anchor.IsEmpty)
        {
            anchor = new Anchor(node) { IsOpen = true };
            anchors[start.Anchor.Value] = anchor;
        }

        open.Push(new Frame(node, anchor, countBefore, charactersBefore));
        return true;
    }

    private void Close()
    {
        var frame = open.Pop();
        if (frame.Anchor is { } anchor)
        {
            // Everything counted since the collection opened, alias expansions included.
            anchor.NodeCount = nodeCount - frame.CountBefore;
            anchor.CharacterCount = scalarCharacters - frame.CharactersBefore;
            anchor.IsOpen = false;
        }

        Attach(frame.Node);
    }

    private bool AddAlias(AnchorAlias alias)
    {
        if (!anchors.TryGetValue(alias.Value.Value, out var anchor))
        {
            Error(DiagnosticCodes.YamlSyntax, $"the alias '*{alias.Value.Value}' refers to no anchor defined before it", alias.Start);
            return false;
        }

        if (anchor.IsOpen)
        {
            Error(DiagnosticCodes.YamlSyntax, $"the alias '*{alias.Value.Value}' refers to a node that contains it", alias.Start);
            return false;
        }

        // An alias stands for a whole copy of the anchored subtree: count it expanded, share the node.
        if (!Count(anchor.NodeCount, anchor.CharacterCount, alias.Start))
        {
            return false;
        }

        Attach(anchor.Node);
        return true;
    }

    private bool Count(long nodes, long characters, Mark where)
    {
        nodeCount += nodes;
        scalarCharacters += characters;
        if (nodeCount > limits.MaxNodes)
        {
            Error(
                DiagnosticCodes.LimitExceeded,
                $"the document has more than {limits.MaxNodes} nodes (aliases counted expanded)",
                where);
            return false;
        }

        if (scalarCharacters > limits.MaxExpandedScalarCharacters)
        {
            Error(
                DiagnosticCodes.LimitExceeded,
                $"the document's scalars hold more than {limits.MaxExpandedScalarCharacters} characters in total (aliases counted expanded; MaxExpandedScalarCharacters)",
                where);
            return false;
        }

        return true;
    }

    private void Attach(YamlNode node)
    {
        if (open.Count == 0)
        {
            root = node;
            return;
        }

        var parent = open.Peek();
        switch (parent.Node)
        {
            case YamlSequence sequence:
                sequence.Items.Add(node);
                break;
            case YamlMapping when parent.PendingKey is null:
                parent.PendingKey = node;
                break;
            case YamlMapping mapping:
                mapping.Entries.Add(new KeyValuePair<YamlNode, YamlNode>(parent.PendingKey, node));
                parent.PendingKey = null;
                break;
            default:
                throw new InvalidOperationException("A scalar cannot be an open collection.");
        }
    }

    private void ReportSyntax(Exception ex, Scanner scanner, Mark lastSeen)
    {
        var position = SafePosition(scanner, lastSeen);
        switch (ex)
        {
            case SyntaxErrorException syntax when syntax.Start.Line > 0 && position.Line > syntax.Start.Line:
                // The scanner's mark is where the construct began ("while scanning a quoted scalar"); when that is on an
                // earlier line, the problem is where the scanner stopped (an unclosed quote at the end of the file, a tab
                // in the indentation of a later line). On the same line the construct's start is the more precise place.
                Error(
                    DiagnosticCodes.YamlSyntax,
                    $"malformed YAML: {ex.Message} (in the construct starting at line {syntax.Start.Line}, column {syntax.Start.Column})",
                    position);
                break;
            case YamlException yaml when yaml.Start.Line > 0:
                // The parser's mark is the token it could not use.
                Error(DiagnosticCodes.YamlSyntax, $"malformed YAML: {ex.Message}", yaml.Start);
                break;
            default:
                Error(DiagnosticCodes.YamlSyntax, "malformed YAML: the parser could not read the document here", position);
                break;
        }
    }

    private static Mark SafePosition(Scanner scanner, Mark lastSeen)
    {
        try
        {
            var position = scanner.CurrentPosition;
            return position.Line > 0 ? position : lastSeen;
        }
#pragma warning disable CA1031 // The scanner is in an unknown state after an unexpected exception; fall back to the last event seen.
        catch (Exception)
#pragma warning restore CA1031
        {
            return lastSeen;
        }
    }

    private void Error(string code, string message, Mark where)
        => diagnostics.Add(PolicyDiagnostic.Error(code, message, new SourceLocation(source, Line(where), Column(where))));

    private static int Line(Mark mark) => (int)Math.Clamp(mark.Line, 0, int.MaxValue);

    private static int Column(Mark mark) => (int)Math.Clamp(mark.Column, 0, int.MaxValue);

    private sealed class Frame(YamlNode node, Anchor? anchor, long countBefore, long charactersBefore)
    {
        public YamlNode Node { get; } = node;

        public Anchor? Anchor { get; } = anchor;

        public long CountBefore { get; } = countBefore;

        public long CharactersBefore { get; } = charactersBefore;

        public YamlNode? PendingKey { get; set; }
    }

    private sealed class Anchor(YamlNode node)
    {
        public YamlNode Node { get; } = node;

        public long NodeCount { get; set; }

        public long CharacterCount { get; set; }

        public bool IsOpen { get; set; }
    }
}
