using AiRbac.Extensions.AI;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;

namespace AiRbac.Benchmarks.Scenarios;

/// <summary>
/// Scenario: the chat gate per tool call. For each <c>tool:invoke</c> request of the corpus that the policy allows
/// (a permitted tool), a <see cref="Subject"/> is built for the call (as a service builds it per chat request), an
/// <see cref="AiRbacChatContext"/> for it is attached to new <see cref="ChatOptions"/>, and a
/// <see cref="FunctionInvocationContext"/> carrying the options and the tool is handed to the
/// <see cref="FunctionInvokingChatClient.FunctionInvoker"/> of a <see cref="FunctionInvokingChatClient"/>: either the one
/// <see cref="AiRbacFunctionInvocation.AuthorizeWithAiRbac"/> installs (context read from the options, <c>tool:invoke</c>
/// on <c>tool:NAME</c> decided, then the tool invoked), or a pass-through invoker that only invokes the tool (the floor).
/// The tool returns a result made once. Figures are per call; all the per-call building is inside both.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Chat")]
public class ChatToolCallBenchmarks
{
    private static readonly object Ran = new();

    private Func<FunctionInvocationContext, CancellationToken, ValueTask<object?>> gated = null!;
    private Func<FunctionInvocationContext, CancellationToken, ValueTask<object?>> floor = null!;
    private Call[] calls = [];

    /// <summary>The scales.</summary>
    public static IEnumerable<string> Scales => BenchmarkSettings.Scales;

    /// <summary>The scale: <c>scale-0</c>, <c>scale-1000</c> or <c>scale-10000</c> extra roles.</summary>
    [ParamsSource(nameof(Scales))]
    public string Scale { get; set; } = "scale-0";

    /// <summary>Builds both invokers and the per-call inputs, and checks that every call runs through the gate.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (scenario, policy) = BenchmarkSettings.Scenario(Scale);
        var authorizer = new PolicyAuthorizer();
        authorizer.Update(policy, new PolicyVersion("bench", DateTimeOffset.UnixEpoch));
#pragma warning disable CA2000 // the clients own nothing that needs disposing (the inner client is a stub)
        var gatedClient = new FunctionInvokingChatClient(new NoModel()).AuthorizeWithAiRbac(authorizer);
        var floorClient = new FunctionInvokingChatClient(new NoModel())
        {
            FunctionInvoker = static (invocation, cancellationToken) => invocation.Function.InvokeAsync(invocation.Arguments, cancellationToken),
        };
#pragma warning restore CA2000
        gated = gatedClient.FunctionInvoker!;
        floor = floorClient.FunctionInvoker!;

        var parsed = scenario.ParseRequests();
        var expected = scenario.Expected;
        var tools = new Dictionary<string, AIFunction>(StringComparer.Ordinal);
        calls = [.. Enumerable.Range(0, parsed.Length)
            .Where(i => expected[i].Allowed && parsed[i].Action == "tool:invoke" && parsed[i].Resource.Name.StartsWith("tool:", StringComparison.Ordinal)
                && parsed[i].Resource.Sensitivity is null && parsed[i].Resource.Tags.IsEmpty && parsed[i].Resource.Scope is null)
            .Select(i =>
            {
                string name = parsed[i].Resource.Name["tool:".Length..];
                var tool = tools.TryGetValue(name, out var t) ? t : tools[name] = new Tool(name);
                return new Call(Inputs.Of(parsed[i].Subject), tool);
            })];
        if (calls.Length == 0)
        {
            throw new InvalidOperationException($"{Scale}: the corpus has no permitted tool call");
        }

        foreach (var call in calls)
        {
            if (!ReferenceEquals(Invoke(gated, call), Ran))
            {
                throw new InvalidOperationException($"chat gate: tool '{call.Tool.Name}' did not run, but expected.jsonl allows it");
            }
        }
    }

    /// <summary>The floor: subject, context, options and invocation context built, and a pass-through invoker.</summary>
    /// <returns>The number of calls that ran.</returns>
    [Benchmark(Baseline = true, Description = "Chat tool call, pass-through invoker", OperationsPerInvoke = ChatCorpus.Calls)]
    public int PassThrough() => RunAll(floor);

    /// <summary>The AiRbac function invoker: the context read from the options, the call decided, then the tool invoked.</summary>
    /// <returns>The number of calls that ran.</returns>
    [Benchmark(Description = "Chat tool call, AiRbac invoker", OperationsPerInvoke = ChatCorpus.Calls)]
    public int AiRbacInvoker() => RunAll(gated);

    private int RunAll(Func<FunctionInvocationContext, CancellationToken, ValueTask<object?>> invoker)
    {
        int ran = 0;
        for (int i = 0; i < ChatCorpus.Calls; i++)
        {
            ran += ReferenceEquals(Invoke(invoker, calls[i % calls.Length]), Ran) ? 1 : 0;
        }

        return ran;
    }

    private static object? Invoke(Func<FunctionInvocationContext, CancellationToken, ValueTask<object?>> invoker, Call call)
    {
        var options = new ChatOptions().WithAiRbac(new AiRbacChatContext(call.Subject.Build()));
        var invocation = new FunctionInvocationContext { Function = call.Tool, Arguments = [], Options = options };
        return invoker(invocation, CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>The number of calls per invocation (the corpus's permitted tool calls, repeated).</summary>
    private static class ChatCorpus
    {
        public const int Calls = 2_000;
    }

    private sealed record Call(Inputs Subject, AIFunction Tool);

    /// <summary>What a request carries about its subject: id, kind, role bindings (names) and who it acts for.</summary>
    private sealed class Inputs(string id, SubjectKind? kind, RoleBinding[]? roles, Inputs? onBehalfOf)
    {
        public static Inputs Of(Subject s) => new(s.Id, s.Kind, s.Roles?.ToArray(), s.OnBehalfOf is null ? null : Of(s.OnBehalfOf));

        public Subject Build() => new(id, kind, roles, onBehalfOf?.Build());
    }

    /// <summary>A tool that returns a result made once.</summary>
    private sealed class Tool(string name) : AIFunction
    {
        public override string Name => name;

        protected override ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
            => new(Ran);
    }

    /// <summary>The inner client of the function-invoking clients; never called (the benchmark calls their invokers).</summary>
    private sealed class NoModel : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
            => throw new NotSupportedException();

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
            => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
