namespace SegServe.Contracts;

/// <summary>
/// Semantic segmentation scores, with the semantics of mmsegmentation's IoUMetric: counts are summed over all pixels
/// (of all samples) first and divided last; ground-truth pixels equal to the ignore index are left out entirely;
/// predictions outside [0, numClasses − 1] are misses; a ratio of 0/0 is null and that class is left out of the mean
/// (a class absent from both ground truth and prediction); a predicted class absent from the ground truth has IoU 0.
/// Scores are fractions in [0, 1].
/// </summary>
/// <param name="NumClasses">Number of classes scored (labels 0 … numClasses − 1).</param>
/// <param name="IgnoreIndex">Ground-truth label left out of scoring.</param>
/// <param name="Pixels">Non-ignored pixels scored.</param>
/// <param name="PixelAccuracy">aAcc: correctly predicted pixels / non-ignored pixels.</param>
/// <param name="MeanAccuracy">mAcc: mean per-class recall over classes present in the ground truth.</param>
/// <param name="MeanIou">mIoU: mean per-class IoU over classes present in the ground truth or the prediction.</param>
/// <param name="MeanDice">mDice: mean per-class Dice over the same classes.</param>
/// <param name="MeanPrecision">Mean per-class precision over predicted classes.</param>
/// <param name="MeanRecall">Mean per-class recall (equals mAcc).</param>
/// <param name="MeanF1">Mean per-class F1 where defined (a class never predicted, or never right, has none — as mmseg's mFscore).</param>
/// <param name="FrequencyWeightedIou">Σ over classes of (ground-truth share × IoU).</param>
/// <param name="MeanBoundaryIou">Mean Boundary IoU (Cheng et al. 2021) over classes with a boundary: the inner band of width d = max(1, round(0.02 × image diagonal)) of each mask, the image border counting as boundary.</param>
/// <param name="Classes">Per-class scores.</param>
/// <param name="ConfusionMatrix">Pixel counts, rows = ground-truth class, columns = predicted class.</param>
/// <param name="PredictedOutsideClasses">Per ground-truth class: pixels predicted as a label outside the classes (counted as misses).</param>
public sealed record SemanticScoresResponse(
    int NumClasses,
    int IgnoreIndex,
    long Pixels,
    double? PixelAccuracy,
    double? MeanAccuracy,
    double? MeanIou,
    double? MeanDice,
    double? MeanPrecision,
    double? MeanRecall,
    double? MeanF1,
    double? FrequencyWeightedIou,
    double? MeanBoundaryIou,
    IReadOnlyList<ClassScoresResponse> Classes,
    IReadOnlyList<IReadOnlyList<long>> ConfusionMatrix,
    IReadOnlyList<long> PredictedOutsideClasses);

/// <summary>One class's scores; null where the ratio is 0/0.</summary>
/// <param name="Id">Class index.</param>
/// <param name="Name">Class name, when given.</param>
/// <param name="GroundTruthPixels">Pixels of the class in the ground truth.</param>
/// <param name="PredictedPixels">Pixels predicted as the class (on non-ignored pixels).</param>
/// <param name="IntersectionPixels">Pixels both.</param>
/// <param name="Iou">Intersection over union.</param>
/// <param name="Dice">Dice = 2·I / (P + G).</param>
/// <param name="Precision">I / P.</param>
/// <param name="Recall">I / G (the class's accuracy).</param>
/// <param name="F1">2PR / (P + R).</param>
/// <param name="BoundaryIou">Boundary IoU.</param>
public sealed record ClassScoresResponse(
    int Id,
    string? Name,
    long GroundTruthPixels,
    long PredictedPixels,
    long IntersectionPixels,
    double? Iou,
    double? Dice,
    double? Precision,
    double? Recall,
    double? F1,
    double? BoundaryIou);

/// <summary>Creates an evaluation run (a dataset scored sample by sample).</summary>
/// <param name="Task"><c>semantic</c> or <c>instances</c>.</param>
/// <param name="NumClasses">Number of classes (labels 0 … numClasses − 1); semantic runs only.</param>
/// <param name="IgnoreIndex">Ground-truth label to leave out (default 255).</param>
/// <param name="ClassNames">Optional names, one per class.</param>
/// <param name="Model">Optional model: samples may then send <c>image</c> instead of <c>prediction</c>, and the model's prediction is scored.</param>
/// <param name="Palette">Optional palette for colour-coded PNGs: comma-separated <c>#rrggbb</c>, one per label, or <c>voc</c>.</param>
public sealed record CreateEvaluationRequest(
    string Task,
    int? NumClasses,
    int? IgnoreIndex,
    IReadOnlyList<string>? ClassNames,
    string? Model,
    string? Palette);

/// <summary>An evaluation run and its dataset-level scores.</summary>
/// <param name="Id">Run id.</param>
/// <param name="Task"><c>semantic</c>.</param>
/// <param name="Created">When it was created (UTC).</param>
/// <param name="Model">The model that predicts for <c>image</c> samples, if any.</param>
/// <param name="SampleCount">Samples added so far.</param>
/// <param name="Scores">Semantic runs: scores over all samples (sums first, then ratios); null before the first sample.</param>
/// <param name="Samples">Each sample's name and own scores (pixels, pixel accuracy and mIoU; or AP), in the order they were added.</param>
/// <param name="InstanceScores">Instance runs: COCO mask AP over all samples' images together; null before the first sample.</param>
public sealed record EvaluationRunResponse(
    string Id,
    string Task,
    DateTimeOffset Created,
    string? Model,
    int SampleCount,
    SemanticScoresResponse? Scores,
    IReadOnlyList<SampleSummary> Samples,
    InstanceScoresResponse? InstanceScores = null);

/// <summary>One sample of a run.</summary>
/// <param name="Name">File name (without extension) or the name given.</param>
/// <param name="Pixels">Non-ignored pixels.</param>
/// <param name="PixelAccuracy">The sample's own pixel accuracy.</param>
/// <param name="MeanIou">The sample's own mIoU.</param>
/// <param name="Ap">Instance runs: the sample's own mask AP.</param>
public sealed record SampleSummary(string Name, long Pixels, double? PixelAccuracy, double? MeanIou, double? Ap = null);

/// <summary>The samples just added to a run.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Added">Each sample added by this request.</param>
/// <param name="SampleCount">Samples in the run now.</param>
public sealed record SamplesAddedResponse(string RunId, IReadOnlyList<SampleSummary> Added, int SampleCount);

/// <summary>
/// COCO mask AP, exactly as pycocotools' COCOeval(iouType="segm"): IoU thresholds 0.50:0.05:0.95, 101-point interpolated
/// precision, at most 100 detections per image, area ranges small (&lt; 32²), medium, large (&gt; 96²); crowd regions
/// match any number of detections, which are then ignored. Null where COCOeval prints −1 (no ground truth in that setting).
/// </summary>
/// <param name="Ap">AP averaged over IoU 0.50:0.95 (the COCO headline number).</param>
/// <param name="Ap50">AP at IoU 0.50.</param>
/// <param name="Ap75">AP at IoU 0.75.</param>
/// <param name="ApSmall">AP of small objects.</param>
/// <param name="ApMedium">AP of medium objects.</param>
/// <param name="ApLarge">AP of large objects.</param>
/// <param name="Ar1">Recall with 1 detection per image.</param>
/// <param name="Ar10">Recall with 10 detections per image.</param>
/// <param name="Ar100">Recall with 100 detections per image.</param>
/// <param name="ArSmall">Recall of small objects.</param>
/// <param name="ArMedium">Recall of medium objects.</param>
/// <param name="ArLarge">Recall of large objects.</param>
/// <param name="Categories">AP per category.</param>
/// <param name="Images">Images scored.</param>
/// <param name="GroundTruthInstances">Ground-truth instances (crowd regions included).</param>
/// <param name="Detections">Detections scored.</param>
public sealed record InstanceScoresResponse(
    double? Ap,
    double? Ap50,
    double? Ap75,
    double? ApSmall,
    double? ApMedium,
    double? ApLarge,
    double? Ar1,
    double? Ar10,
    double? Ar100,
    double? ArSmall,
    double? ArMedium,
    double? ArLarge,
    IReadOnlyList<CategoryScoresResponse> Categories,
    int Images,
    int GroundTruthInstances,
    int Detections);

/// <summary>AP of one category.</summary>
/// <param name="Id">Category id.</param>
/// <param name="Name">Category name, when the ground truth gives it.</param>
/// <param name="Ap">AP over IoU 0.50:0.95; null without ground truth of this category.</param>
public sealed record CategoryScoresResponse(long Id, string? Name, double? Ap);
