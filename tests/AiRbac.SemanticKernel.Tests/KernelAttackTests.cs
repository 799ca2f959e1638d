using AiRbac.Extensions.AI;
using AiRbac.Yaml;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace AiRbac.SemanticKernel.Tests;

/// <summary>
/// Red-team tests of the Semantic Kernel adapter against the real Semantic Kernel 1.82.0: its own OpenAI connector path
/// (<c>FunctionCallsProcessor</c>, not <c>IChatClient</c>) streaming or not, one kernel shared by concurrent requests,
/// filters registered before AiRbac's in DI, a streaming invocation, a denied function named explicitly in
/// <c>FunctionChoiceBehavior.Auto(functions)</c>, and an observer that throws. Nothing the policy denies runs.
/// </summary>
public sealed class KernelAttackTests
{
    private const string Policy = """
        version: 1
        roles:
          analyst:
            allow: [ "tool:invoke on tool:reports/*" ]
            deny: [ "tool:invoke on tool:reports/secret" ]
          support-agent:
            kinds: [agent]
            allow: [ "tool:invoke on tool:**" ]
        """;

    private static readonly Subject Alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
    private static readonly Subject Bot = Subject.WithRoles("support-bot", SubjectKind.Agent, "support-agent");

    private readonly List<string> ran = [];

    public static TheoryData<bool> Streaming() => new() { false, true };

    [Theory]
    [MemberData(nameof(Streaming))]
    public async Task ConnectorPath_PromptInjectedCall_ToAHiddenFunction_NeverRuns(bool streaming)
    {
        var model = new StandInOpenAI(_ => Turn.Call(("c1", "reports-weekly"), ("c2", "records-delete_all")), _ => Turn.Say("done"));
        var kernel = Kernel(Authorizer()).WithAiRbac(new AiRbacChatContext(Alice));

        await Chat(model, kernel, streaming);

        Ran().Should().Equal("reports/weekly");
        model.ToolNamesSeen(0).Should().Equal("reports-weekly");
        model.ResultsSeen(1)["c2"].Should().NotContain("deleted");
    }

    [Theory]
    [MemberData(nameof(Streaming))]
    public async Task ConnectorPath_CallDeniedWhenItRuns_ModelGetsTheRefusal(bool streaming)
    {
        var authorizer = Authorizer();
        var model = new StandInOpenAI(
            _ =>
            {
                authorizer.Update(YamlPolicy.Compile("version: 1\nroles:\n  analyst:\n    allow: [ \"tool:invoke on tool:search\" ]\n", "v2.yaml").Policy!, new PolicyVersion("v2", DateTimeOffset.UnixEpoch));
                return Turn.Call(("c1", "reports-weekly"));
            },
            _ => Turn.Say("sorry"));
        var kernel = Kernel(authorizer).WithAiRbac(new AiRbacChatContext(Alice));

        await Chat(model, kernel, streaming);

        Ran().Should().BeEmpty();
        model.ResultsSeen(1)["c1"].Should().Contain("Tool 'reports/weekly' was not run: access denied (no_matching_grant).");
    }

    [Fact]
    public async Task ConnectorPath_AutoNamingADeniedFunction_NeverRunsIt()
    {
        // The caller names records/delete_all (an object of the shared kernel) in Auto(functions): the per-request kernel
        // has no such function, so Semantic Kernel refuses the request or the call, and nothing runs.
        var model = new StandInOpenAI(_ => Turn.Call(("c1", "records-delete_all")), _ => Turn.Say("done"));
        var shared = Kernel(Authorizer());
        var kernel = shared.WithAiRbac(new AiRbacChatContext(Alice));
        var settings = new OpenAIPromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto([shared.Plugins["records"]["delete_all"]]) };

        try
        {
            await Service(model).GetChatMessageContentsAsync(History(), settings, kernel);
        }
        catch (KernelException)
        {
            // Refused before anything ran: fine.
        }

        Ran().Should().BeEmpty();
    }

    [Fact]
    public async Task ConcurrentRequests_FromOneSharedKernel_AreEachDecidedForTheirOwnSubject()
    {
        var shared = Kernel(Authorizer());
        var requests = Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            var subject = i % 2 == 0 ? Alice : Bot;
            var kernel = shared.WithAiRbac(new AiRbacChatContext(subject));
            var result = await kernel.InvokeAsync(shared.Plugins["records"]["delete_all"]);
            return (subject.Id, Result: result.GetValue<string>(), Functions: kernel.Plugins.SelectMany(p => p).Count());
        })).ToList();

        var results = await Task.WhenAll(requests);

        results.Where(r => r.Id == "alice").Should().OnlyContain(r => r.Result == "Tool 'records/delete_all' was not run: access denied (no_matching_grant)." && r.Functions == 1);
        results.Where(r => r.Id == "support-bot").Should().OnlyContain(r => r.Result == "deleted" && r.Functions == 3);
        Ran().Count(name => name == "records/delete_all").Should().Be(20);
        shared.Data.Should().NotContainKey(AiRbacChatContext.PropertyName);
        shared.Plugins.SelectMany(p => p).Should().HaveCount(3);
    }

    [Fact]
    public async Task FiltersRegisteredBeforeAiRbacInServices_NeverSeeADeniedCall()
    {
        List<string> seen = [];
        var builder = Microsoft.SemanticKernel.Kernel.CreateBuilder();
        builder.Services.AddSingleton(Authorizer());
        builder.Services.AddSingleton<IFunctionInvocationFilter>(new RecordingFilter(seen));
        builder.Services.AddSingleton<IAutoFunctionInvocationFilter>(new RecordingFilter(seen));
        builder.AddAiRbac();
        foreach (var plugin in Plugins())
        {
            builder.Plugins.Add(plugin);
        }

        var kernel = builder.Build().WithAiRbac(new AiRbacChatContext(Alice));
        var model = new StandInOpenAI(_ => Turn.Call(("c1", "reports-weekly")), _ => Turn.Say("done"));

        await kernel.InvokeAsync(kernel.Plugins["reports"]["weekly"]);
        var secret = await kernel.InvokeAsync(builder.Build().Plugins["reports"]["secret"]);
        await Chat(model, kernel, streaming: false);

        secret.GetValue<string>().Should().Be("Tool 'reports/secret' was not run: access denied (explicit_deny).");
        seen.Should().Equal("function:weekly", "auto:weekly", "function:weekly");
        Ran().Should().Equal("reports/weekly", "reports/weekly");
    }

    [Fact]
    public async Task StreamingInvocation_OfADeniedFunction_DoesNotRunIt_AndThrowsTheDenial()
    {
        // A stream has no single value to carry the refusal (Semantic Kernel would fail to cast the denial text to the
        // stream the caller asked for): the denial is thrown, with its reason.
        var shared = Kernel(Authorizer());
        var kernel = shared.WithAiRbac(new AiRbacChatContext(Alice));

        var stream = async () =>
        {
            await foreach (var chunk in kernel.InvokeStreamingAsync<string>(shared.Plugins["reports"]["secret"]))
            {
                _ = chunk;
            }
        };

        var denied = (await stream.Should().ThrowAsync<AiRbacAccessDeniedException>()).Which;
        denied.Resource.Should().Be("tool:reports/secret");
        denied.ReasonName.Should().Be("explicit_deny");
        Ran().Should().BeEmpty();

        List<string> chunks = [];
        await foreach (var chunk in kernel.InvokeStreamingAsync<string>(shared.Plugins["reports"]["weekly"]))
        {
            chunks.Add(chunk);
        }

        Ran().Should().Equal("reports/weekly");
        string.Concat(chunks).Should().Be("weekly done");
    }

    [Fact]
    public async Task ObserverThatThrows_FailsClosed()
    {
        var authorizer = new PolicyAuthorizer([new Throwing()]);
        authorizer.Update(YamlPolicy.Compile(Policy, "sk.yaml").Policy!, new PolicyVersion("test", DateTimeOffset.UnixEpoch));
        var kernel = new Kernel();
        AddPlugins(kernel.Plugins);
        kernel.UseAiRbac(authorizer);

        var copy = () => kernel.WithAiRbac(new AiRbacChatContext(Bot));
        var invoke = () => kernel.InvokeAsync(kernel.Plugins["records"]["delete_all"]);

        copy.Should().Throw<InvalidOperationException>();
        await invoke.Should().ThrowAsync<InvalidOperationException>();
        Ran().Should().BeEmpty();
    }

    private static ChatHistory History()
    {
        var history = new ChatHistory("You are a helpful assistant.");
        history.AddUserMessage("Weekly report, please.");
        return history;
    }

    private static OpenAIChatCompletionService Service(StandInOpenAI model)
        => new("gpt-4o", "test-key", httpClient: new HttpClient(model) { BaseAddress = new Uri("https://openai.invalid/v1/") });

    private static async Task Chat(StandInOpenAI model, Kernel kernel, bool streaming)
    {
        var settings = new OpenAIPromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() };
        if (!streaming)
        {
            await Service(model).GetChatMessageContentsAsync(History(), settings, kernel);
            return;
        }

        await foreach (var update in Service(model).GetStreamingChatMessageContentsAsync(History(), settings, kernel))
        {
            _ = update;
        }
    }

    private static PolicyAuthorizer Authorizer()
    {
        var authorizer = new PolicyAuthorizer();
        authorizer.Update(YamlPolicy.Compile(Policy, "sk.yaml").Policy!, new PolicyVersion("test", DateTimeOffset.UnixEpoch));
        return authorizer;
    }

    private List<string> Ran()
    {
        lock (ran)
        {
            return [.. ran];
        }
    }

    private Kernel Kernel(PolicyAuthorizer authorizer)
    {
        var kernel = new Kernel();
        AddPlugins(kernel.Plugins);
        return kernel.UseAiRbac(authorizer);
    }

    private void AddPlugins(ICollection<KernelPlugin> plugins)
    {
        foreach (var plugin in Plugins())
        {
            plugins.Add(plugin);
        }
    }

    private KernelPlugin[] Plugins()
    {
        string Run(string name, string result)
        {
            lock (ran)
            {
                ran.Add(name);
            }

            return result;
        }

        return
        [
            KernelPluginFactory.CreateFromFunctions("reports", [
                KernelFunctionFactory.CreateFromMethod(() => Run("reports/weekly", "weekly done"), "weekly"),
                KernelFunctionFactory.CreateFromMethod(() => Run("reports/secret", "secret done"), "secret"),
            ]),
            KernelPluginFactory.CreateFromFunctions("records", [
                KernelFunctionFactory.CreateFromMethod(() => Run("records/delete_all", "deleted"), "delete_all"),
            ]),
        ];
    }

    private sealed class Throwing : IDecisionObserver
    {
        public void OnDecision(in DecisionRecord record) => throw new InvalidOperationException("audit store down");
    }

    private sealed class RecordingFilter(List<string> seen) : IFunctionInvocationFilter, IAutoFunctionInvocationFilter
    {
        public Task OnFunctionInvocationAsync(Microsoft.SemanticKernel.FunctionInvocationContext context, Func<Microsoft.SemanticKernel.FunctionInvocationContext, Task> next)
        {
            seen.Add("function:" + context.Function.Name);
            return next(context);
        }

        public Task OnAutoFunctionInvocationAsync(AutoFunctionInvocationContext context, Func<AutoFunctionInvocationContext, Task> next)
        {
            seen.Add("auto:" + context.Function.Name);
            return next(context);
        }
    }
}
