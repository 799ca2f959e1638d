using System.Security.Claims;
using AiRbac.ModelContextProtocol;
using BenchmarkDotNet.Attributes;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AiRbac.Benchmarks.Scenarios;

/// <summary>
/// Scenario: the MCP <c>tools/call</c> filter per call. For each <c>tool:invoke</c> request of the corpus, a
/// <see cref="ClaimsPrincipal"/> is built (as the HTTP transport's authentication does per message), a request context
/// carries it and the tool name, and the filtered handler runs: the AiRbac filter (claims mapped to a subject per call,
/// then <c>tool:invoke</c> on <c>tool:NAME</c> decided) in front of a tool that returns a result made once; against the same
/// call with a filter that only calls the next handler (the floor). Figures are per call.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Mcp")]
public class McpToolCallBenchmarks
{
    private static readonly CallToolResult Ran = new() { Content = [new TextContentBlock { Text = "done" }] };

    private McpServer server = null!;
    private McpRequestHandler<CallToolRequestParams, CallToolResult> filtered = null!;
    private McpRequestHandler<CallToolRequestParams, CallToolResult> floor = null!;
    private Call[] calls = [];

    /// <summary>The scales.</summary>
    public static IEnumerable<string> Scales => BenchmarkSettings.Scales;

    /// <summary>The scale: <c>scale-0</c>, <c>scale-1000</c> or <c>scale-10000</c> extra roles.</summary>
    [ParamsSource(nameof(Scales))]
    public string Scale { get; set; } = "scale-0";

    /// <summary>Builds the filters and the per-call inputs, and checks each call's outcome against expected.jsonl.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (scenario, policy) = BenchmarkSettings.Scenario(Scale);
        var authorizer = new PolicyAuthorizer();
        authorizer.Update(policy, new PolicyVersion("bench", DateTimeOffset.UnixEpoch));
        var filters = new AiRbacMcpFilters(authorizer, new AiRbacMcpOptions { NameClaimType = ClaimTypes.NameIdentifier, KindClaimType = AspNetCorePathBenchmarks.KindClaim });
        McpRequestHandler<CallToolRequestParams, CallToolResult> tool = static (_, _) => new ValueTask<CallToolResult>(Ran);
        filtered = filters.CallTool(tool);
        floor = ((McpRequestFilter<CallToolRequestParams, CallToolResult>)(next => (context, token) => next(context, token)))(tool);
        server = McpServer.Create(new StreamServerTransport(Stream.Null, Stream.Null), new McpServerOptions());

        var parsed = scenario.ParseRequests();
        var expected = scenario.Expected;
        var picked = Enumerable.Range(0, parsed.Length)
            .Where(i => parsed[i].Action == "tool:invoke" && parsed[i].Resource.Name.StartsWith("tool:", StringComparison.Ordinal)
                && parsed[i].Resource.Sensitivity is null && parsed[i].Resource.Tags.IsEmpty)
            .ToArray();
        calls = [.. picked.Select(i => new Call(PrincipalInputs.Of(parsed[i].Subject), parsed[i].Resource.Name["tool:".Length..], expected[i].Allowed))];
        foreach (var call in calls)
        {
            bool ran = ReferenceEquals(Invoke(filtered, call), Ran);
            if (ran != call.Allowed)
            {
                throw new InvalidOperationException($"MCP filter: tool '{call.Tool}' ran={ran}, expected allowed={call.Allowed}");
            }
        }
    }

    /// <summary>Disposes the server.</summary>
    [GlobalCleanup]
    public void Cleanup() => server.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>The floor: principal, request context and a pass-through filter in front of the tool.</summary>
    /// <returns>The number of calls that ran.</returns>
    [Benchmark(Baseline = true, Description = "MCP tools/call, pass-through filter", OperationsPerInvoke = McpCorpus.Calls)]
    public int PassThrough() => RunAll(floor);

    /// <summary>The AiRbac <c>tools/call</c> filter: claims mapped to a subject per call, then the decision.</summary>
    /// <returns>The number of calls that ran.</returns>
    [Benchmark(Description = "MCP tools/call, AiRbac filter", OperationsPerInvoke = McpCorpus.Calls)]
    public int AiRbacFilter() => RunAll(filtered);

    private int RunAll(McpRequestHandler<CallToolRequestParams, CallToolResult> handler)
    {
        int ran = 0;
        for (int i = 0; i < McpCorpus.Calls; i++)
        {
            ran += ReferenceEquals(Invoke(handler, calls[i % calls.Length]), Ran) ? 1 : 0;
        }

        return ran;
    }

    private CallToolResult Invoke(McpRequestHandler<CallToolRequestParams, CallToolResult> handler, Call call)
    {
        var request = new JsonRpcRequest { Method = RequestMethods.ToolsCall, Id = new RequestId(1) };
        var context = new RequestContext<CallToolRequestParams>(server, request, new CallToolRequestParams { Name = call.Tool })
        {
            User = call.Principal.Build(),
        };
        return handler(context, CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>The number of calls per invocation (the corpus's tool calls, repeated).</summary>
    private static class McpCorpus
    {
        public const int Calls = 2_000;
    }

    private sealed record Call(PrincipalInputs Principal, string Tool, bool Allowed);
}
