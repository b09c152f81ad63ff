namespace Lepton.Orchestrations.Training;

// Activity names of the training workflow: empty marker types called by nameof; each [Function] method calls
// TrainingService (or the durable client) directly (one hop, see docs/design.md).

/// <summary>Resolve datasets, validate label and folds, plan the candidate × fold grid.</summary>
public static class PrepareTraining;

/// <summary>Train one candidate on k-1 folds and score the held-out fold; returns metrics only.</summary>
public static class EvaluateCandidateFold;

/// <summary>Evaluate all folds of one candidate in one activity (small data); a failed fold is a result with its error.</summary>
public static class EvaluateCandidateFolds;

/// <summary>Train the winner on all rows, export to ONNX, check parity, store the artifacts.</summary>
public static class TrainFinalModel;

/// <summary>Register the new version and decide its promotion against production.</summary>
public static class RegisterModelVersion;

/// <summary>Starts a training run through the client, once: the run id is derived from the caller's, so a retry finds it.</summary>
public static class StartTrainingRun;

/// <summary>Starts an online update through the client, once, when the model has a network in production; else null.</summary>
public static class StartOnlineUpdateRun;

/// <summary>Sends a heavy candidate's job to the GPU trainer's queue; returns its ticket (job id, event name, result blob).</summary>
public static class EnqueueHeavyTraining;

/// <summary>Reads a job's result blob: the fallback when its completion callback was lost.</summary>
public static class ReadHeavyTrainingResult;

/// <summary>Records a job the run stopped waiting for in the poison queue, with the reason.</summary>
public static class DeadLetterHeavyTraining;
