using AiRbac.Extensions.AI;
using AiRbac.Yaml;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace AiRbac.SemanticKernel.Tests;

/// <summary>
/// The Semantic Kernel adapter against the real Semantic Kernel: a kernel with plugins, AiRbac's filters, and a scripted
/// model behind Semantic Kernel's own IChatClient path (<c>UseKernelFunctionInvocation</c>, auto-invoked functions). The
/// attacker's tests: a prompt-injected call to a hidden function, a direct call with a denied subject, a context provider
/// that throws, a kernel without the filters; none runs a function the policy denies. The operator's tests: a permitted
/// function runs (decided once), an agent acting for a user is decided on the chain, plugins are named PLUGIN/FUNCTION.
/// </summary>
public sealed class AiRbacKernelFilterTests
{
    private const string Policy = """
        version: 1
        roles:
          analyst:
            allow: [ "tool:invoke on tool:reports/*" ]
            deny: [ "tool:invoke on tool:reports/secret" ]
          one-segment:
            allow: [ "tool:invoke on tool:*" ]
          support-agent:
            kinds: [agent]
            allow: [ "tool:invoke on tool:**" ]
        """;

    private static readonly Subject Alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
    private static readonly Subject Bot = Subject.WithRoles("support-bot", SubjectKind.Agent, "support-agent");

    private readonly List<string> ran = [];
    private readonly List<string> decided = [];

    public static TheoryData<bool> Streaming() => new() { false, true };

    [Theory]
    [MemberData(nameof(Streaming))]
    public async Task PromptInjectedCall_ToAHiddenFunction_NeverRuns(bool streaming)
    {
        var model = new ScriptedModel(_ => ScriptedModel.Calls(("c1", "reports_weekly"), ("c2", "records_delete_all")), _ => ScriptedModel.Text("done"));
        var kernel = Kernel().WithAiRbac(new AiRbacChatContext(Alice));

        await Chat(model, kernel, streaming);

        ran.Should().Equal("reports/weekly");
        model.ToolNamesSeen(0).Should().BeEquivalentTo("reports_weekly");
        model.ResultsSeen(1)["c2"].Should().NotContain("deleted");
    }

    [Fact]
    public async Task HiddenFunctions_AreNotOfferedToTheModel_AndTheSharedKernelIsUnchanged()
    {
        var model = new ScriptedModel(_ => ScriptedModel.Text("hello"));
        var shared = Kernel();
        var kernel = shared.WithAiRbac(new AiRbacChatContext(Alice));

        await Chat(model, kernel, streaming: false);

        model.ToolNamesSeen(0).Should().BeEquivalentTo("reports_weekly");
        shared.Plugins.SelectMany(p => p).Select(f => f.Name).Should().BeEquivalentTo("weekly", "secret", "delete_all");
        shared.Data.Should().NotContainKey(AiRbacChatContext.PropertyName);
    }

    [Fact]
    public async Task AllowedFunction_Runs_AndIsDecidedOnce()
    {
        var model = new ScriptedModel(_ => ScriptedModel.Calls(("c1", "reports_weekly")), _ => ScriptedModel.Text("done"));
        var kernel = Kernel().WithAiRbac(new AiRbacChatContext(Alice));
        decided.Clear();

        await Chat(model, kernel, streaming: false);

        ran.Should().Equal("reports/weekly");
        model.ResultsSeen(1)["c1"].Should().Contain("weekly done");
        // The auto-invocation filter decided the call; the function filter it led to did not decide it again.
        decided.Should().Equal("tool:reports/weekly");
    }

    [Fact]
    public async Task AgentActingForUser_IsDecidedOnTheChain()
    {
        var alone = Kernel().WithAiRbac(new AiRbacChatContext(Bot));
        alone.Plugins.SelectMany(p => p).Select(f => f.Name).Should().BeEquivalentTo("weekly", "secret", "delete_all");

        var forAlice = Kernel().WithAiRbac(new AiRbacChatContext(Bot.ActingFor(Alice)));
        forAlice.Plugins.SelectMany(p => p).Select(f => f.Name).Should().BeEquivalentTo("weekly");

        var result = await Kernel().Plugins["records"]["delete_all"].InvokeAsync(forAlice);
        result.GetValue<string>().Should().Be("Tool 'records/delete_all' was not run: access denied (delegation_denied).");
        ran.Should().BeEmpty();
    }

    [Fact]
    public async Task DirectInvocation_OfADeniedFunction_DoesNotRun_AndReturnsTheReasonOnly()
    {
        // Your code (or a prompt template) invokes a function the subject may not invoke: the function filter refuses it.
        var kernel = Kernel().WithAiRbac(new AiRbacChatContext(Alice));
        var secret = Kernel().Plugins["reports"]["secret"];

        var result = await kernel.InvokeAsync(secret);

        ran.Should().BeEmpty();
        result.GetValue<string>().Should().Be("Tool 'reports/secret' was not run: access denied (explicit_deny).");
    }

    [Fact]
    public async Task CallDeniedWhenItRuns_ModelGetsTheRefusal_AndTheFunctionDoesNotRun()
    {
        // Offered while the policy allowed it; the policy changes before the model's call runs.
        var authorizer = Authorizer();
        var model = new ScriptedModel(
            _ =>
            {
                authorizer.Update(YamlPolicy.Compile("version: 1\nroles:\n  analyst:\n    allow: [ \"tool:invoke on tool:search\" ]\n", "v2.yaml").Policy!, new PolicyVersion("v2", DateTimeOffset.UnixEpoch));
                return ScriptedModel.Calls(("c1", "reports_weekly"));
            },
            _ => ScriptedModel.Text("sorry"));
        var kernel = Kernel(authorizer).WithAiRbac(new AiRbacChatContext(Alice));

        await Chat(model, kernel, streaming: false);

        ran.Should().BeEmpty();
        model.ResultsSeen(1)["c1"].Should().Be("Tool 'reports/weekly' was not run: access denied (no_matching_grant).");
    }

    [Fact]
    public async Task NoContext_OrAContextProviderThatThrows_FailsClosed()
    {
        var weekly = Kernel().Plugins["reports"]["weekly"];

        var noContext = await Kernel().InvokeAsync(weekly);
        noContext.GetValue<string>().Should().Contain("missing_identity");

        var throwing = Plain().UseAiRbac(Authorizer(), o => o.ContextProvider = _ => throw new InvalidOperationException("identity store down"));
        var failed = await throwing.WithAiRbac(new AiRbacChatContext(Alice)).InvokeAsync(weekly);
        failed.GetValue<string>().Should().Contain("missing_identity");
        ran.Should().BeEmpty();
    }

    [Fact]
    public void WithAiRbac_OnAKernelWithoutTheFilters_Refuses()
    {
        var act = () => Plain().WithAiRbac(new AiRbacChatContext(Alice));

        act.Should().Throw<InvalidOperationException>().WithMessage("*AiRbacKernelFilter*");
    }

    [Fact]
    public async Task AiRbac_RunsBeforeOtherFilters_SoTheyNeverSeeADeniedCall()
    {
        var seen = new List<string>();
        var kernel = Plain();
        kernel.FunctionInvocationFilters.Add(new RecordingFilter(seen));
        kernel.FunctionInvocationFilters.Add(new AiRbacKernelFilter(Authorizer()));
        kernel.AutoFunctionInvocationFilters.Add(new AiRbacKernelFilter(Authorizer()));

        var forAlice = kernel.WithAiRbac(new AiRbacChatContext(Alice));
        await forAlice.InvokeAsync(kernel.Plugins["reports"]["secret"]);
        await forAlice.InvokeAsync(kernel.Plugins["reports"]["weekly"]);

        seen.Should().Equal("weekly");
        ran.Should().Equal("reports/weekly");
    }

    [Fact]
    public void PluginFunctions_AreNamedPluginSlashFunction()
    {
        // tool:* is one segment: it grants no plugin's function (tool:** or tool:PLUGIN/* does).
        var oneSegment = Kernel().WithAiRbac(new AiRbacChatContext(Subject.WithRoles("olga", SubjectKind.User, "one-segment")));

        oneSegment.Plugins.Should().BeEmpty();
    }

    [Fact]
    public async Task AddAiRbac_RegistersOneFilterForBothKinds_WithTheRegisteredAuthorizer()
    {
        var builder = Microsoft.SemanticKernel.Kernel.CreateBuilder();
        builder.Services.AddSingleton(Authorizer());
        builder.AddAiRbac();
        builder.Plugins.Add(Reports());
        var kernel = builder.Build();

        kernel.FunctionInvocationFilters.Should().ContainSingle().Which.Should().BeOfType<AiRbacKernelFilter>();
        kernel.AutoFunctionInvocationFilters.Should().ContainSingle().Which.Should().BeSameAs(kernel.FunctionInvocationFilters[0]);
        var result = await kernel.WithAiRbac(new AiRbacChatContext(Alice)).InvokeAsync(kernel.Plugins["reports"]["secret"]);
        result.GetValue<string>().Should().Contain("explicit_deny");
        ran.Should().BeEmpty();
    }

    private static async Task Chat(ScriptedModel model, Kernel kernel, bool streaming)
    {
        IChatClient client = model.AsBuilder().UseKernelFunctionInvocation().Build();
        var service = client.AsChatCompletionService();
        var history = new ChatHistory("You are a helpful assistant.");
        history.AddUserMessage("Weekly report, please.");
        var settings = new PromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() };
        if (!streaming)
        {
            await service.GetChatMessageContentsAsync(history, settings, kernel);
            return;
        }

        await foreach (var update in service.GetStreamingChatMessageContentsAsync(history, settings, kernel))
        {
            _ = update;
        }
    }

    private PolicyAuthorizer Authorizer()
    {
        var authorizer = new PolicyAuthorizer([new Recorder(decided)]);
        authorizer.Update(YamlPolicy.Compile(Policy, "sk-test.yaml").Policy!, new PolicyVersion("test", DateTimeOffset.UnixEpoch));
        return authorizer;
    }

    private Kernel Kernel(PolicyAuthorizer? authorizer = null) => Plain().UseAiRbac(authorizer ?? Authorizer());

    private Kernel Plain()
    {
        var kernel = new Kernel();
        kernel.Plugins.Add(Reports());
        kernel.Plugins.Add(KernelPluginFactory.CreateFromFunctions("records", [
            KernelFunctionFactory.CreateFromMethod(() => { ran.Add("records/delete_all"); return "deleted"; }, "delete_all"),
        ]));
        return kernel;
    }

    private KernelPlugin Reports() => KernelPluginFactory.CreateFromFunctions("reports", [
        KernelFunctionFactory.CreateFromMethod(() => { ran.Add("reports/weekly"); return "weekly done"; }, "weekly"),
        KernelFunctionFactory.CreateFromMethod(() => { ran.Add("reports/secret"); return "secret done"; }, "secret"),
    ]);

    private sealed class Recorder(List<string> decided) : IDecisionObserver
    {
        public void OnDecision(in DecisionRecord record) => decided.Add(record.Resource.Name);
    }

    private sealed class RecordingFilter(List<string> seen) : IFunctionInvocationFilter
    {
        public Task OnFunctionInvocationAsync(Microsoft.SemanticKernel.FunctionInvocationContext context, Func<Microsoft.SemanticKernel.FunctionInvocationContext, Task> next)
        {
            seen.Add(context.Function.Name);
            return next(context);
        }
    }
}
