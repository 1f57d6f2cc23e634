console.log("runsc");
