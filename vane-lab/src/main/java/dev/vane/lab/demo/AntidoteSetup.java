package dev.vane.lab.demo;

import dev.vane.lab.data.Request;
import dev.vane.lab.eval.RefusalEvaluation;
import dev.vane.lab.eval.TuningSplit;
import dev.vane.lab.judge.DegenerateCalibration;
import dev.vane.lab.judge.DegenerateRule;
import dev.vane.lab.judge.KeywordRefusalJudge;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.AntidoteBuilder;
import dev.vane.lab.steer.SteeringVector;

import java.util.List;
import java.util.stream.Stream;

/**
 * What the Antidote steps share (step 3, and step 8's gated comparison): the train pairs the vector is built from,
 * the attacked harmful requests and the benign ones, each split into tuning and report halves by task, the vector
 * itself (kept in the step's run) and the degenerate rule calibrated on the unsteered model's answers to tuning
 * requests, so the report halves feed no choice.
 */
record AntidoteSetup(List<String> harmfulTrain, List<String> benignTrain, TuningSplit attacked, TuningSplit benign) {
    static AntidoteSetup of(DemoContext ctx) {
        DemoSizes z = ctx.sizes();
        DemoInputs in = ctx.inputs();
        return new AntidoteSetup(DemoSizes.first(in.harmful("train"), z.antidotePairs()),
                DemoSizes.first(in.benign("train"), z.antidotePairs()),
                TuningSplit.byTask(DemoSizes.first(in.harmfulRequests("test"), z.antidoteHarmful())),
                TuningSplit.byTask(DemoSizes.first(in.benignRequests("train"), z.antidoteBenign())));
    }

    /** Progress units of building the vector. */
    long buildUnits() {
        return 2L * Math.min(harmfulTrain.size(), benignTrain.size());
    }

    /** The Antidote vector of the train pairs, read from the run when an earlier attempt wrote it. */
    SteeringVector vector(DemoContext ctx, RunDirectory run, StepProgress progress) {
        DemoInputs in = ctx.inputs();
        return ScaleSweep.vector(run, "antidote.safetensors", () -> new AntidoteBuilder(ctx.model(), ctx.tokenizer())
                .build(harmfulTrain, benignTrain, in.harmfulFile().getFileName() + " vs " + in.benignFile().getFileName()
                        + " split train", progress.from(0)).vector());
    }

    /** The refusal evaluation with the degenerate rule calibrated on tuning requests (kept in the run). */
    RefusalEvaluation evaluation(DemoContext ctx, RunDirectory run) {
        return new RefusalEvaluation(ctx.model(), ctx.tokenizer(), KeywordRefusalJudge.defaults(), rule(ctx, run));
    }

    /** The degenerate rule calibrated on the chat model's answers to tuning requests (kept in the run). */
    DegenerateRule rule(DemoContext ctx, RunDirectory run) {
        List<String> calibration = Stream.concat(attacked.tuning().stream().limit(16), benign.tuning().stream().limit(16))
                .map(Request::prompt).toList();
        return DegenerateCalibration.inRun(run, ctx.model(), ctx.tokenizer(),
                RefusalEvaluation.chatPrompts(ctx.tokenizer(), calibration), ctx.sizes().maxNewTokens(), 0).rule();
    }
}
